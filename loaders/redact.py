"""PII and secret redaction for free text (ticket bodies, span messages and attributes)."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

from pydantic import BaseModel

logger = logging.getLogger(__name__)

__all__ = ["RedactConfig", "Redactor", "redact"]


class RedactConfig(BaseModel):
    """What to redact; every kind is on by default (`Settings.redact_pii` turns all off)."""

    enabled: bool = True
    emails: bool = True
    secrets: bool = True
    ips: bool = True
    url_passwords: bool = True


_SECRET_KEYS = (
    r"api[_-]?key|apikey|access[_-]?key(?:[_-]?id)?|secret(?:[_-]?access)?[_-]?key|client[_-]?secret"
    r"|secret|token|access[_-]?token|refresh[_-]?token|auth[_-]?token|password|passwd|pwd|"
    r"private[_-]?key|session[_-]?id|credentials?"
)

# (pattern, replacement); order matters: specific token shapes first, generic ones last.
_SECRETS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
        "<private-key>",
    ),
    (re.compile(r"(?i)\b(bearer|token|basic)\s+[A-Za-z0-9._~+/-]{12,}=*"), r"\1 <token>"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), "<jwt>"),
    (re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b"), "<aws-key>"),
    (
        re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b|\bgithub_pat_[A-Za-z0-9_]{22,}"),
        "<github-token>",
    ),
    (re.compile(r"\bgl(?:pat|dt|ptt)-[A-Za-z0-9_-]{20,}"), "<gitlab-token>"),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), "<slack-token>"),
    (re.compile(r"\bsk_(?:live|test)_[A-Za-z0-9]{16,}|\bsk-[A-Za-z0-9_-]{20,}"), "<api-key>"),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"), "<api-key>"),
    (
        re.compile(
            rf"(?i)(?P<k>[\"']?\b[\w.-]*(?:{_SECRET_KEYS})[\"']?\s*(?:=|:|=>)\s*[\"']?)"
            r"(?P<v>[^\s\"'&,;)}\]]{4,})"
        ),
        r"\g<k><redacted>",
    ),
    (
        re.compile(
            r"(?i)(?<![\w/])(?=[A-Za-z0-9+/]*\d)(?=[A-Za-z0-9+/]*[A-Z])(?=[A-Za-z0-9+/]*[a-z])"
            r"[A-Za-z0-9+/]{40,}={0,2}(?![\w/])"
        ),
        "<secret>",
    ),
)
_URL_PASSWORD = re.compile(r"\b([a-z][a-z0-9+.-]*://[^:/\s@]+):([^@\s/]+)@", re.I)
_EMAIL = re.compile(r"\b[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_IPV4 = re.compile(
    r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
    r"(?![\w.]|\.\d)"
)
_IPV6 = re.compile(
    r"(?<![\w:])(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}(?![\w:])|"
    r"(?<![\w:])(?:[0-9a-fA-F]{1,4}:){1,6}:(?:[0-9a-fA-F]{1,4}:?){1,6}(?![\w:])"
)


class Redactor:
    """Applies the configured rules; cheap to call on every string (quick pre-checks)."""

    def __init__(self, config: RedactConfig | None = None) -> None:
        self.config = config or RedactConfig()

    def __call__(self, text: str | None) -> str | None:
        return self.text(text)

    def text(self, text: str | None) -> str | None:
        """Redacted copy of `text` (None stays None)."""
        if not text or not self.config.enabled:
            return text
        c = self.config
        if c.url_passwords and "://" in text:
            text = _URL_PASSWORD.sub(r"\1:<redacted>@", text)
        if c.secrets:
            for rx, repl in _SECRETS:
                text = rx.sub(repl, text)
        if c.emails and "@" in text:
            text = _EMAIL.sub("<email>", text)
        if c.ips:
            if "." in text:
                text = _IPV4.sub("<ip>", text)
            if "::" in text or text.count(":") >= 7:
                text = _IPV6.sub("<ip>", text)
        return text

    def mapping(self, attrs: Mapping[str, object]) -> dict[str, object]:
        """Attributes with string values redacted; values under secret-like keys dropped."""
        out: dict[str, object] = {}
        for key, value in attrs.items():
            if re.search(_SECRET_KEYS, key, re.I) and not key.startswith("code."):
                out[key] = "<redacted>"
            elif isinstance(value, str):
                out[key] = self.text(value)
            else:
                out[key] = value
        return out


def redact(text: str | None, config: RedactConfig | None = None) -> str | None:
    """Redact emails, tokens and keys, IP addresses and URL passwords in `text`."""
    return Redactor(config).text(text)
