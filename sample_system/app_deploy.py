"""Deployment and packaging files of the sample shop: Dockerfiles, Kubernetes, compose, tests."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

__all__ = ["compose_file", "service_extras"]

# service -> (environment variables in production, upstream services)
_ENV: dict[str, dict[str, str]] = {
    "gateway": {
        "ORDERS_URL": "http://orders.internal:8080",
        "INVENTORY_URL": "http://inventory.internal:8080",
        "PAYMENTS_URL": "http://payments.internal:8080",
    },
    "orders": {
        "DATABASE_URL": "postgresql://db.internal:5432/orders",
        "PRICING_URL": "http://pricing.internal:8080",
        "INVENTORY_URL": "http://inventory.internal:8080",
        "PAYMENTS_URL": "http://payments.internal:8080",
        "NOTIFICATIONS_URL": "http://notifications.internal:8080",
    },
    "payments": {
        "DATABASE_URL": "postgresql://db.internal:5432/payments",
        "ACQUIRER_URL": "https://api.acquirer.example",
    },
    "inventory": {
        "DATABASE_URL": "postgresql://db.internal:5432/inventory",
        "REDIS_URL": "redis://cache.internal:6379/0",
    },
    "notifications": {
        "DATABASE_URL": "postgresql://db.internal:5432/notifications",
        "MAILER_URL": "https://smtp.mailer.example",
        "SMS_URL": "https://api.sms.example",
    },
    "pricing": {"LOG_LEVEL": "info"},
}

_DOCKERFILE_PY = """FROM python:3.11-slim
WORKDIR /app
COPY libs/shopkit /app/libs/shopkit
COPY services/{svc} /app/services/{svc}
RUN pip install --no-cache-dir /app/libs/shopkit /app/services/{svc}
EXPOSE 8080
CMD ["python", "-m", "{svc}"]
"""

_DOCKERFILE_GO = """FROM golang:1.22 AS build
WORKDIR /src
COPY services/pricing .
RUN go build -o /pricing ./cmd/pricing

FROM gcr.io/distroless/base-debian12
COPY --from=build /pricing /pricing
EXPOSE 8080
ENTRYPOINT ["/pricing"]
"""

_PYPROJECT = """[project]
name = "{svc}"
version = "1.0.0"
requires-python = ">=3.11"
dependencies = ["shopkit", "opentelemetry-api>=1.27"]
"""

_TEST = '''"""Unit tests of {svc}."""

from {svc}.{module} import {function}


def test_{function}():
    assert {call}
'''

_TESTS = {
    "gateway": ("pagination", "parse_page", 'parse_page({"page": "2"}) == (2, 20)'),
    "orders": ("discounts", "apply_coupon", 'apply_coupon(1000, "WELCOME10") == 100'),
    "payments": ("currency", "convert", 'convert(100, "USD", "USD") == 100'),
    "inventory": ("stock", "allocate", 'allocate([{"warehouse": "A", "available": 5}], 3)'),
    "notifications": ("channels", "pick_channel", 'pick_channel({"email": None}) == "sms"'),
}


def _k8s(svc: str) -> str:
    env = "".join(
        f'            - name: {key}\n              value: "{value}"\n'
        for key, value in _ENV[svc].items()
    )
    return (
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {svc}\n"
        f"  labels:\n    app: {svc}\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n"
        f"      app: {svc}\n  template:\n    metadata:\n      labels:\n        app: {svc}\n"
        f"    spec:\n      containers:\n        - name: {svc}\n"
        f"          image: registry.example-shop.dev/{svc}:latest\n"
        f"          ports:\n            - containerPort: 8080\n          env:\n{env}"
        f"---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {svc}\nspec:\n"
        f"  selector:\n    app: {svc}\n  ports:\n    - port: 8080\n      targetPort: 8080\n"
    )


def service_extras(svc: str) -> dict[str, str]:
    """Repository files that come with a service besides its code."""
    files = {f"deploy/k8s/{svc}.yaml": _k8s(svc)}
    if svc == "pricing":
        files["services/pricing/Dockerfile"] = _DOCKERFILE_GO
        return files
    files[f"services/{svc}/Dockerfile"] = _DOCKERFILE_PY.format(svc=svc)
    files[f"services/{svc}/pyproject.toml"] = _PYPROJECT.format(svc=svc)
    module, function, call = _TESTS[svc]
    files[f"services/{svc}/tests/test_{module}.py"] = _TEST.format(
        svc=svc, module=module, function=function, call=call
    )
    return files


def compose_file() -> str:
    """docker-compose.yml for running the whole shop locally."""
    out = ["services:"]
    for svc, env in _ENV.items():
        out += [
            f"  {svc}:",
            "    build:",
            "      context: .",
            f"      dockerfile: services/{svc}/Dockerfile",
            "    environment:",
        ]
        for key, value in env.items():
            local = value.replace(".internal", "").replace("db:", "postgres:")
            local = local.replace("cache:", "redis:")
            out.append(f'      {key}: "{local}"')
        deps = sorted(
            {v.split("//")[1].split(".")[0].split(":")[0] for v in env.values() if ".internal" in v}
        )
        deps = ["postgres" if d == "db" else "redis" if d == "cache" else d for d in deps]
        if deps:
            out.append("    depends_on:")
            out += [f"      - {d}" for d in deps]
    out += [
        "  postgres:",
        "    image: postgres:16",
        "    environment:",
        '      POSTGRES_PASSWORD: "dev"',
        "  redis:",
        "    image: redis:7",
    ]
    return "\n".join(out) + "\n"
