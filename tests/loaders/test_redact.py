"""Redaction of emails, tokens, keys, IP addresses and URL passwords."""

from __future__ import annotations

import pytest

from loaders.redact import RedactConfig, Redactor, redact


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("contact alice.smith+ops@corp.example.com asap", "alice.smith+ops@corp.example.com"),
        ("Authorization: Bearer abcDEF123456ghiJKL789.xyz", "abcDEF123456ghiJKL789.xyz"),
        ("key AKIAIOSFODNN7EXAMPLE leaked", "AKIAIOSFODNN7EXAMPLE"),
        (
            "token ghp_0123456789abcdefghijABCDEFGHIJ012345 in log",
            "ghp_0123456789abcdefghijABCDEFGHIJ012345",
        ),
        (
            "api_key=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",
        ),
        ('{"client_secret": "s3cr3tValue!"}', "s3cr3tValue!"),
        ("db at postgres://app:hunter2@10.1.2.3:5432/orders", "hunter2"),
        ("peer 192.168.10.77 refused", "192.168.10.77"),
        ("v6 peer 2001:db8:85a3:0:0:8a2e:370:7334 down", "2001:db8:85a3:0:0:8a2e:370:7334"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.abcdefghijklmnop", "eyJzdWIiOiIxMjM0NSJ9"),
    ],
)
def test_redacts(text: str, secret: str) -> None:
    out = redact(text)
    assert out is not None and secret not in out
    assert out != text


def test_keeps_code_references_and_versions() -> None:
    text = 'File "/app/svc/handlers.py", line 42, in handle; version 1.2.3; at Foo.java:88'
    assert redact(text) == text


def test_configurable() -> None:
    text = "mail bob@example.com from 10.0.0.1"
    assert Redactor(RedactConfig(enabled=False)).text(text) == text
    assert redact(text, RedactConfig(ips=False)) == "mail <email> from 10.0.0.1"
    attrs = Redactor().mapping({"http.request.header.x-api-key": "abc", "user": "bob@example.com"})
    assert attrs == {"http.request.header.x-api-key": "<redacted>", "user": "<email>"}
