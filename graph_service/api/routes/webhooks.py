"""GitHub webhooks: `issues` to the tickets loader, `deployment_status` to deployments."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from starlette.concurrency import run_in_threadpool

from graph_service.api.deps import StateDep
from graph_service.api.routes.ingest import make_source_loader, run_ingest
from graph_service.errors import AuthError, CallerError, OperatorError

logger = logging.getLogger(__name__)

__all__ = ["EVENT_SOURCES", "loader_document", "router", "verify_signature"]

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

EVENT_SOURCES = {"issues": "tickets", "deployment_status": "deployments"}
_DELIVERY = re.compile(r"[^A-Za-z0-9_-]")


def verify_signature(secret: str, body: bytes, signature: str | None) -> None:
    """Check GitHub's `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`."""
    if not secret:
        raise OperatorError(
            "webhooks are disabled: set PRODGRAPH_WEBHOOK_SECRET to the secret of the GitHub "
            "webhook"
        )
    if not signature or not signature.startswith("sha256="):
        raise AuthError("missing X-Hub-Signature-256 header")
    expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.removeprefix("sha256=").strip().lower()):
        raise AuthError("webhook signature does not match")


def loader_document(event: str, payload: object) -> list[dict[str, object]]:
    """The event as the loader's own input: a one-item list of GitHub REST objects.

    `issues` -> `[issue]`; `deployment_status` -> `[deployment]` with the status embedded.
    """
    if not isinstance(payload, dict):
        raise CallerError("webhook payload must be a JSON object")
    if event == "issues":
        issue = payload.get("issue")
        if not isinstance(issue, dict):
            raise CallerError("issues event without an issue object")
        repo = payload.get("repository")
        if isinstance(repo, dict) and "repository_url" not in issue and repo.get("url"):
            issue = {**issue, "repository_url": repo["url"]}
        return [issue]
    deployment, status = payload.get("deployment"), payload.get("deployment_status")
    if not isinstance(deployment, dict) or not isinstance(status, dict):
        raise CallerError("deployment_status event without deployment and deployment_status")
    return [{**deployment, "statuses": [*deployment.get("statuses", []), status]}]


@router.post("/github")
async def github_webhook(
    request: Request,
    state: StateDep,
    x_github_event: Annotated[str | None, Header()] = None,
    x_github_delivery: Annotated[str | None, Header()] = None,
    x_hub_signature_256: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """Verify the signature, then feed the payload to its loader as a one-item file."""
    body = await request.body()
    verify_signature(state.settings.webhook_secret.get_secret_value(), body, x_hub_signature_256)
    event = x_github_event or ""
    if event == "ping":
        return {"event": "ping", "ingested": False}
    source = EVENT_SOURCES.get(event)
    if source is None:
        return {"event": event, "ingested": False, "reason": "event not handled"}
    try:
        document = loader_document(event, json.loads(body))
    except RecursionError as e:
        raise CallerError("webhook payload is nested too deeply to read") from e
    except ValueError as e:
        raise CallerError(f"webhook payload is not JSON: {e}") from e
    delivery = _DELIVERY.sub("", x_github_delivery or "")[:64] or "delivery"
    with tempfile.TemporaryDirectory(prefix="prodgraph-webhook-") as tmp:
        path = Path(tmp) / f"github-{event}-{delivery}.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        report = await run_in_threadpool(
            run_ingest,
            state,
            source,
            lambda: make_source_loader(source, [str(path)], state, {}),
        )
    return {"event": event, "ingested": True, "report": report}
