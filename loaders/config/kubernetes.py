"""Kubernetes manifests: workloads' env, envFrom and ConfigMap volumes, Service objects."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from loaders.base import LoadReport
from loaders.config.classify import ResourceRef
from loaders.config.facts import ConfigFacts

logger = logging.getLogger(__name__)

__all__ = ["WORKLOAD_KINDS", "K8sObject", "collect_kubernetes", "is_k8s_object"]

WORKLOAD_KINDS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"}
)
_NAME_LABELS = ("app.kubernetes.io/name", "app", "k8s-app", "name")


@dataclass(frozen=True)
class K8sObject:
    """One object of a manifest, with the file and line it came from."""

    data: dict[str, Any]
    source: str
    position: str

    @property
    def kind(self) -> str:
        return str(self.data.get("kind", ""))

    @property
    def name(self) -> str:
        return str(_get(self.data, "metadata", "name") or "")

    @property
    def namespace(self) -> str:
        return str(_get(self.data, "metadata", "namespace") or "default")


def is_k8s_object(doc: Any) -> bool:
    return isinstance(doc, dict) and "apiVersion" in doc and "kind" in doc


def expand_lists(objects: Iterable[K8sObject]) -> list[K8sObject]:
    """`kind: List` documents (kubectl get -o yaml) become their items."""
    out: list[K8sObject] = []
    for obj in objects:
        if obj.kind == "List" or obj.kind.endswith("List"):
            items = obj.data.get("items") or []
            out.extend(K8sObject(i, obj.source, obj.position) for i in items if is_k8s_object(i))
        else:
            out.append(obj)
    return out


def collect_kubernetes(
    objects: Iterable[K8sObject], facts: ConfigFacts, report: LoadReport
) -> None:
    """Services and the resources their workloads use, across every loaded manifest."""
    objs = expand_lists(objects)
    config_maps = {
        (o.namespace, o.name): {str(k): _text(v) for k, v in (o.data.get("data") or {}).items()}
        for o in objs
        if o.kind == "ConfigMap"
    }
    services = [o for o in objs if o.kind == "Service"]
    by_label: dict[tuple[str, str, str], list[tuple[K8sObject, dict[str, str]]]] = {}
    for svc in services:
        selector = _get(svc.data, "spec", "selector") or {}
        if isinstance(selector, dict) and selector:
            sel = {str(k): str(v) for k, v in selector.items()}
            k, v = min(sel.items())
            by_label.setdefault((svc.namespace, k, v), []).append((svc, sel))
    selected: set[tuple[str, str]] = set()
    for obj in objs:
        if obj.kind not in WORKLOAD_KINDS:
            continue
        spec, labels = _pod_template(obj)
        if spec is None:
            report.skip(obj.source, f"{obj.kind} {obj.name!r} has no pod spec", obj.position)
            continue
        matched = _selecting(by_label, obj.namespace, labels)
        selected.update((s.namespace, s.name) for s in matched)
        name = _service_name(obj, spec, labels, matched)
        facts.declare(name, obj.source)
        _collect_pod(obj, spec, name, config_maps, facts, report)
    for svc in services:
        spec = svc.data.get("spec") or {}
        if (svc.namespace, svc.name) in selected or not svc.name:
            continue
        if spec.get("type") == "ExternalName":
            continue  # an alias for an outside host, not a running service of ours
        facts.declare(svc.name, svc.source)


def _pod_template(obj: K8sObject) -> tuple[dict[str, Any] | None, dict[str, str]]:
    if obj.kind == "Pod":
        template: Any = obj.data
    elif obj.kind == "CronJob":
        template = _get(obj.data, "spec", "jobTemplate", "spec", "template")
    else:
        template = _get(obj.data, "spec", "template")
    if not isinstance(template, dict) or not isinstance(template.get("spec"), dict):
        return None, {}
    labels = _get(template, "metadata", "labels") or _get(obj.data, "metadata", "labels") or {}
    return template["spec"], {str(k): str(v) for k, v in labels.items()}


def _selecting(
    by_label: dict[tuple[str, str, str], list[tuple[K8sObject, dict[str, str]]]],
    namespace: str,
    labels: dict[str, str],
) -> list[K8sObject]:
    """Service objects whose whole selector matches these pod labels (indexed by one label)."""
    found = []
    for k, v in labels.items():
        for svc, selector in by_label.get((namespace, k, v), []):
            if all(labels.get(sk) == sv for sk, sv in selector.items()):
                found.append(svc)
    return found


def _service_name(
    obj: K8sObject, spec: dict[str, Any], labels: dict[str, str], matched: list[K8sObject]
) -> str:
    """OTEL_SERVICE_NAME, else the Service selecting the pods, a name label, the object name."""
    for container in _containers(spec):
        for var in container.get("env") or []:
            if isinstance(var, dict) and var.get("name") == "OTEL_SERVICE_NAME":
                value = var.get("value")
                if isinstance(value, str) and value.strip() and "$(" not in value:
                    return value.strip()
    if matched:
        return sorted(s.name for s in matched)[0]
    for label in _NAME_LABELS:
        if labels.get(label):
            return labels[label]
    return obj.name


def _collect_pod(
    obj: K8sObject,
    spec: dict[str, Any],
    service: str,
    config_maps: dict[tuple[str, str], dict[str, str]],
    facts: ConfigFacts,
    report: LoadReport,
) -> None:
    via = obj.source
    for container in _containers(spec):
        for var in container.get("env") or []:
            if not isinstance(var, dict) or not var.get("name"):
                continue
            key, value = str(var["name"]), var.get("value")
            ref = _get(var, "valueFrom", "configMapKeyRef")
            if isinstance(ref, dict):
                value = config_maps.get((obj.namespace, str(ref.get("name"))), {}).get(
                    str(ref.get("key"))
                )
            facts.env(service, key, _text(value) if value is not None else None, via)
        for source in container.get("envFrom") or []:
            if not isinstance(source, dict):
                continue
            _env_from(obj, source, service, config_maps, facts, report)
    for volume in spec.get("volumes") or []:
        cm = _get(volume, "configMap", "name") if isinstance(volume, dict) else None
        if cm:
            facts.use(service, ResourceRef("config_key", f"configmap/{cm}", "kubernetes"), via)


def _env_from(
    obj: K8sObject,
    source: dict[str, Any],
    service: str,
    config_maps: dict[tuple[str, str], dict[str, str]],
    facts: ConfigFacts,
    report: LoadReport,
) -> None:
    prefix = str(source.get("prefix") or "")
    cm_name = _get(source, "configMapRef", "name")
    secret_name = _get(source, "secretRef", "name")
    if secret_name:
        ref = ResourceRef("config_key", f"secret/{secret_name}", "kubernetes")
        facts.use(service, ref, obj.source)
    if not cm_name:
        return
    data = config_maps.get((obj.namespace, str(cm_name)))
    if data is None:
        report.warn(
            obj.source,
            f"ConfigMap {cm_name!r} (namespace {obj.namespace}) is not among the loaded "
            "manifests; its keys are unknown",
            obj.position,
        )
        facts.use(
            service, ResourceRef("config_key", f"configmap/{cm_name}", "kubernetes"), obj.source
        )
        return
    for key, value in sorted(data.items()):
        facts.env(service, prefix + key, value, obj.source)


def _containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    found = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
    return [c for c in found if isinstance(c, dict)]


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
