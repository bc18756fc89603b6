"""Configuration inputs of the config loader tests, written into a folder tree."""

from __future__ import annotations

from pathlib import Path

from tests.graph_snapshot import snapshot  # noqa: F401 (used by the tests)

K8S = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: orders-config, namespace: shop}
data:
  DATABASE_URL: postgres://orders:s3cret-pw@orders-db.shop.svc:5432/orders?sslmode=require
  FEATURE_NEW_CHECKOUT: "true"
  LOG_LEVEL: info
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: orders-deployment, namespace: shop}
spec:
  selector: {matchLabels: {app: orders}}
  template:
    metadata: {labels: {app: orders, tier: backend}}
    spec:
      containers:
        - name: app
          image: shop/orders:1.4
          env:
            - {name: REDIS_URL, value: "redis://:hunter2@cache:6379/0"}
            - {name: KAFKA_BOOTSTRAP_SERVERS, value: "kafka-1:9092,kafka-0:9092"}
            - {name: PAYMENTS_URL, value: "http://payments-svc.shop:8080/v1"}
            - name: DB_POOL
              valueFrom: {configMapKeyRef: {name: orders-config, key: LOG_LEVEL}}
          envFrom:
            - configMapRef: {name: orders-config}
            - secretRef: {name: orders-secrets}
      volumes:
        - name: rules
          configMap: {name: pricing-rules}
---
apiVersion: v1
kind: Service
metadata: {name: orders-service, namespace: shop}
spec:
  selector: {app: orders}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: payments-svc, namespace: shop}
spec:
  selector: {app: payments}
---
apiVersion: v1
kind: Service
metadata: {name: legacy-db, namespace: shop}
spec: {type: ExternalName, externalName: db.legacy.example.com}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: shop}
spec:
  schedule: "0 2 * * *"
  jobTemplate:
    spec:
      template:
        metadata: {labels: {app.kubernetes.io/name: reporter}}
        spec:
          containers:
            - name: run
              image: shop/reporter
              env:
                - {name: AMQP_URL, value: "amqp://guest:guest@rabbit:5672/"}
              envFrom:
                - configMapRef: {name: missing-config}
"""
HELM = """\
{{- if .Values.enabled }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
{{- end }}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: helm-ok}
spec:
  template:
    metadata: {labels: {app: ledger}}
    spec:
      containers: [{name: c, env: [{name: LEDGER_DB_HOST, value: ledger-pg}]}]
"""
BROKEN = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: audit}
spec:
  template:
    spec:
      containers: [{name: c, env: [{name: AUDIT_TOPIC, value: audit}]}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: broken
data: [unclosed
---
apiVersion: v1
kind: Pod
metadata: {name: debug-pod}
spec:
  containers: [{name: c, env: [{name: MEMCACHE_SERVERS, value: "mc1:11211"}]}]
"""
COMPOSE = """\
services:
  web:
    build: .
    environment:
      DATABASE_URL: postgres://app:pw@db:5432/app
      REDIS_HOST: redis
      FLAG_DARK_MODE: "1"
      SENTRY_DSN: https://abc123@o1.ingest.sentry.io/5
      API_TIMEOUT: ${API_TIMEOUT:-30}
    env_file: web.env
    depends_on: [db, redis, kafka, api]
  api:
    build: ./api
    environment:
      - OTEL_SERVICE_NAME=checkout-api
      - KAFKA_BROKERS=kafka:9092
      - SEARCH_URL=http://search:9200
    depends_on:
      search: {condition: service_healthy}
  db: {image: "postgres:16"}
  redis: {image: redis:7-alpine}
  kafka: {image: bitnami/kafka:3.7}
  search: {image: docker.elastic.co/elasticsearch/elasticsearch:8.13.0}
"""
WEB_ENV = "SESSION_SECRET=abc\nAMQP_URL=amqps://u:p@mq.internal/vhost\n"
COMPOSE_DOTENV = "API_TIMEOUT=45\n"
BILLING_ENV = """\
# billing settings
export STRIPE_API_BASE="https://api.stripe.com"
FEATURE_INVOICES=on  # enable invoices
this line is not an assignment
PORT=8080
PEM='-----BEGIN KEY-----
abc
-----END KEY-----'
"""


def write_tree(root: Path) -> Path:
    """The repository-like tree every test loads; returns its root."""
    files = {
        "k8s/app.yaml": K8S,
        "k8s/helm/templates/web.yaml": HELM,
        "k8s/broken.yaml": BROKEN,
        "compose/docker-compose.yml": COMPOSE,
        "compose/web.env": WEB_ENV,
        "compose/.env": COMPOSE_DOTENV,
        "services/billing/.env": BILLING_ENV,
        "docs/mkdocs.yml": "site_name: docs\nnav: [index.md]\n",
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root
