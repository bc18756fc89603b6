"""The loader registry: each source's factory, and the options a remote caller may set.

The CLI and the API both build loaders here (`make_loader`). Options that reach a loader from
the network go through `check_remote_options` first: only the names listed in
`REMOTE_OPTIONS` are accepted, each value is checked for its kind (a number, a flag, a name,
a git revision, one of a few choices) and resource limits are capped by the server's own
settings. Nothing a remote caller sends names a file on the server.
"""

from __future__ import annotations

import importlib
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from graph_service.errors import CallerError

if TYPE_CHECKING:
    from graph_service.settings import Settings
    from loaders.base import Loader

logger = logging.getLogger(__name__)

__all__ = [
    "REMOTE_OPTIONS",
    "SOURCES",
    "OptionSpec",
    "check_remote_options",
    "make_loader",
]

SOURCES = ("code", "git", "traces", "deployments", "tickets", "config")

Kind = Literal["int", "bool", "name", "names", "revision", "choice"]


@dataclass(frozen=True)
class OptionSpec:
    """One option a remote caller may set.

    Args:
        kind: how the value is checked (`int`, `bool`, `name`, `names`, `revision`, `choice`).
        cap: for `int`, the `Settings` field bounding the value; it is also the value used
            when the caller sets none, so a remote load never exceeds the server's limit.
        choices: for `choice`, the accepted values.
    """

    kind: Kind
    cap: str | None = None
    choices: tuple[str, ...] = ()


_NAME = OptionSpec("name")
_FLAG = OptionSpec("bool")
_COUNT = OptionSpec("int")

REMOTE_OPTIONS: dict[str, dict[str, OptionSpec]] = {
    "code": {
        "repo": _NAME,
        "max_file_bytes": OptionSpec("int", cap="ingest_max_file_bytes"),
        "include_vendored": _FLAG,
        "include_generated": _FLAG,
        "use_git": _FLAG,
        "incremental": _FLAG,
        "limit_files": _COUNT,
        "languages": OptionSpec("names"),
    },
    "git": {
        "repo": _NAME,
        "rev": OptionSpec("revision"),
        "since": OptionSpec("revision"),
        "max_commits": _COUNT,
        "full": _FLAG,
        "functions": _FLAG,
        "szz": _FLAG,
        "szz_code_only": _FLAG,
        "include_vendored": _FLAG,
        "include_generated": _FLAG,
        "date_calls": _FLAG,
        "max_files_per_commit": OptionSpec("int", cap="ingest_max_files_per_commit"),
        "max_lines_per_commit": OptionSpec("int", cap="ingest_max_lines_per_commit"),
        "szz_max_lines_per_file": OptionSpec("int", cap="ingest_szz_max_lines_per_file"),
    },
    "traces": {"max_pending": OptionSpec("int", cap="ingest_max_pending_spans")},
    "tickets": {
        "format": OptionSpec("choice", choices=("auto", "github", "jira", "csv")),
        "system": _NAME,
    },
    "deployments": {
        "format": OptionSpec("choice", choices=("auto", "jsonl", "csv", "github")),
        "service": _NAME,
        "reference_commits": _FLAG,
        "assume_utc": _FLAG,
        "repo": _NAME,
    },
    "config": {
        "service": _NAME,
        "repo": _NAME,
        "format": OptionSpec("choice", choices=("auto", "yaml", "dotenv")),
    },
}

_NAME_RX = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@/:+-]{0,199}")
_NAMES_RX = re.compile(r"[A-Za-z0-9+#-]{1,40}(\s*,\s*[A-Za-z0-9+#-]{1,40}){0,31}")
_REVISION_RX = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._/~^@{}-]{0,199}")
_INT_RX = re.compile(r"[0-9]{1,12}")
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def make_loader(
    source: str, paths: list[str], settings: Settings, options: dict[str, str]
) -> Loader:
    """The loader of `source` from its package's `make_loader` (local callers: any option)."""
    if source not in SOURCES:
        raise CallerError(f"unknown source {source!r}; choose one of: {', '.join(SOURCES)}, repo")
    module = importlib.import_module(f"loaders.{source}")
    loader: Loader = module.make_loader(paths, settings, options)
    return loader


def _setting_name(field: str) -> str:
    return f"PRODGRAPH_{field.upper()}"


def _check_value(source: str, key: str, value: str, spec: OptionSpec, settings: Settings) -> str:
    """The value in the loader's own spelling, or a CallerError saying what is wrong with it."""
    shown = value if len(value) <= 40 else value[:40] + "..."
    if spec.kind == "int":
        if not _INT_RX.fullmatch(value.strip()) or int(value) < 1:
            raise CallerError(
                f"{source} option {key} must be a whole number of at least 1, got {shown!r}",
                {"option": key},
            )
        number = int(value)
        cap = getattr(settings, spec.cap) if spec.cap else None
        if cap is not None and number > cap:
            raise CallerError(
                f"{source} option {key}={number} is over this server's limit of {cap} "
                f"(set by the operator as {_setting_name(spec.cap or '')})",
                {"option": key, "limit": cap},
            )
        return str(number)
    if spec.kind == "bool":
        low = value.strip().lower()
        if low not in _TRUE + _FALSE:
            raise CallerError(
                f"{source} option {key} must be true or false, got {shown!r}", {"option": key}
            )
        return "true" if low in _TRUE else "false"
    if spec.kind == "choice":
        if value not in spec.choices:
            raise CallerError(
                f"{source} option {key} must be one of {', '.join(spec.choices)}, got {shown!r}",
                {"option": key},
            )
        return value
    rx = {"name": _NAME_RX, "names": _NAMES_RX, "revision": _REVISION_RX}[spec.kind]
    if not rx.fullmatch(value) or ".." in value:
        what = {
            "name": "a name of letters, digits and . _ @ / : + - (at most 200)",
            "names": "a comma-separated list of names",
            "revision": "a git revision (a branch, tag or commit; no leading '-', no '..')",
        }[spec.kind]
        raise CallerError(f"{source} option {key} must be {what}, got {shown!r}", {"option": key})
    return value


def check_remote_options(
    source: str, options: dict[str, str], settings: Settings
) -> dict[str, str]:
    """Options from the network, checked against `source`'s allow-list and capped by settings.

    Raises CallerError for an unknown source, an option that is not on the list (for example
    a path such as `ticket_dates`, or `workers`), or a value of the wrong kind or over the
    server's limit. Capped options the caller left out get the server's limit.
    """
    if source not in SOURCES:
        raise CallerError(f"unknown source {source!r}; choose one of: {', '.join(SOURCES)}")
    allowed = REMOTE_OPTIONS[source]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise CallerError(
            f"{source}: option(s) {', '.join(unknown)} cannot be set through the API "
            f"(allowed: {', '.join(sorted(allowed)) or 'none'})",
            {"options": unknown, "allowed": sorted(allowed)},
        )
    out = {k: _check_value(source, k, v, allowed[k], settings) for k, v in options.items()}
    for key, spec in allowed.items():
        if spec.cap and key not in out:
            out[key] = str(getattr(settings, spec.cap))
    return out
