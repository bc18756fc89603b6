"""What a configuration value points at: URLs, bare hosts under telling keys, flags, images."""

from __future__ import annotations

import pytest

from loaders.config.classify import ResourceRef, classify_env, classify_image


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        (
            "DATABASE_URL",
            "postgresql+asyncpg://u:p@db.internal:5432/app",
            ResourceRef("database", "db.internal", "postgresql"),
        ),
        (
            "DB",
            "jdbc:mysql://mysql-primary:3306/shop",
            ResourceRef("database", "mysql-primary", "mysql"),
        ),
        (
            "MONGO_URI",
            "mongodb://u:p@m2:27017,m1:27017/app?replicaSet=rs0",
            ResourceRef("database", "m1,m2", "mongodb"),
        ),
        (
            "CACHE",
            "rediss://:pw@Redis.Example.com:6380/1",
            ResourceRef("cache", "redis.example.com", "redis"),
        ),
        (
            "BROKER",
            "amqp://guest:guest@rabbitmq.default.svc.cluster.local:5672/%2f",
            ResourceRef("queue", "rabbitmq.default", "rabbitmq"),
        ),
        ("EVENTS", "kafka://k1:9092", ResourceRef("queue", "k1", "kafka")),
        ("USERS_API", "https://users.internal/v2", ResourceRef("host", "users.internal", "http")),
        ("KAFKA_BOOTSTRAP_SERVERS", "b2:9092, b1:9092", ResourceRef("queue", "b1,b2", "kafka")),
        ("REDIS_HOST", "cache", ResourceRef("cache", "cache", "redis")),
        ("PGHOST", "10.0.0.5", ResourceRef("database", "10.0.0.5", "postgresql")),
        ("INVENTORY_ADDR", "inventory:7000", ResourceRef("host", "inventory", None)),
        ("FEATURE_FAST_PATH", "true", ResourceRef("feature_flag", "FEATURE_FAST_PATH", None)),
        ("FLAG_BETA", None, ResourceRef("feature_flag", "FLAG_BETA", None)),
        ("PORT", "8080", ResourceRef("config_key", "PORT", None)),
        ("TIMEOUT_URL", "12345", ResourceRef("config_key", "TIMEOUT_URL", None)),
        ("DATABASE_URL", "${DATABASE_URL}", ResourceRef("config_key", "DATABASE_URL", None)),
        ("S3_URL", "s3://bucket/key", ResourceRef("config_key", "S3_URL", None)),
        ("GREETING", "hello world", ResourceRef("config_key", "GREETING", None)),
    ],
)
def test_classify_env(key: str, value: str | None, expected: ResourceRef) -> None:
    assert classify_env(key, value) == expected


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("postgres:16-alpine", ("database", "postgresql")),
        ("docker.io/bitnami/kafka:3.7", ("queue", "kafka")),
        ("confluentinc/cp-kafka:7.6.0", ("queue", "kafka")),
        ("rabbitmq:3-management", ("queue", "rabbitmq")),
        ("redis@sha256:abcdef", ("cache", "redis")),
        ("ghcr.io/acme/orders:1.2", None),
    ],
)
def test_classify_image(image: str, expected: tuple[str, str] | None) -> None:
    assert classify_image(image) == expected
