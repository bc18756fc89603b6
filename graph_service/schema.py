"""The context graph's schema, declared once: labels, keys, typed properties, relationships.

Everything else is derived from the declarations below: Ladybug DDL, Neo4j constraints and
indexes, Arrow schemas that validate batches, the analysts' `docs/schema.md`, and the enums
the API and the models use. Bump `SCHEMA_VERSION` whenever a declaration changes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import Enum

import pyarrow as pa

logger = logging.getLogger(__name__)

__all__ = [
    "CLASS_BODY_CALLER",
    "EDGE_SOURCES",
    "META_LABEL",
    "MODULE_CALLER",
    "NODES",
    "RELS",
    "SCHEMA_VERSION",
    "NodeType",
    "Prop",
    "PropType",
    "RelType",
    "arrow_schema_for_node",
    "arrow_schema_for_rel",
    "node",
    "rel",
    "synthetic_caller",
]

SCHEMA_VERSION = 3
META_LABEL = "ProdgraphMeta"
EDGE_SOURCES = ("static", "git", "trace", "ticket", "config", "deploy", "inferred", "model")
# Code outside any function is a caller too: a file's module-level code is the Function
# `<module>` of that file, a class body's code `<Class qualname>.<body>` (no real function can
# bear either name). They carry CALLS like any function and get no MODIFIES.
MODULE_CALLER = "<module>"
CLASS_BODY_CALLER = "<body>"


def synthetic_caller(owner: str) -> str:
    """Qualname of the caller for code outside functions: "" = module level, else a class."""
    return f"{owner}.{CLASS_BODY_CALLER}" if owner else MODULE_CALLER


class PropType(str, Enum):
    STRING = "STRING"
    INT = "INT64"
    FLOAT = "DOUBLE"
    BOOL = "BOOLEAN"
    TIMESTAMP = "TIMESTAMP"
    STRING_LIST = "STRING[]"

    @property
    def arrow(self) -> pa.DataType:
        return _ARROW[self]

    @property
    def neo4j(self) -> str:
        return _NEO4J[self]


_ARROW: dict[PropType, pa.DataType] = {
    PropType.STRING: pa.string(),
    PropType.INT: pa.int64(),
    PropType.FLOAT: pa.float64(),
    PropType.BOOL: pa.bool_(),
    PropType.TIMESTAMP: pa.timestamp("us"),
    PropType.STRING_LIST: pa.list_(pa.string()),
}
_NEO4J: dict[PropType, str] = {
    PropType.STRING: "STRING",
    PropType.INT: "INTEGER",
    PropType.FLOAT: "FLOAT",
    PropType.BOOL: "BOOLEAN",
    PropType.TIMESTAMP: "LOCAL DATETIME",
    PropType.STRING_LIST: "LIST<STRING>",
}


@dataclass(frozen=True)
class Prop:
    name: str
    type: PropType
    doc: str
    indexed: bool = False


def _p(name: str, type_: PropType, doc: str, indexed: bool = False) -> Prop:
    return Prop(name, type_, doc, indexed)


S, I, F, B, T, L = (
    PropType.STRING,
    PropType.INT,
    PropType.FLOAT,
    PropType.BOOL,
    PropType.TIMESTAMP,
    PropType.STRING_LIST,
)

# Stamped on every node and edge by the store: which loader wrote it last, in which run.
STAMP_PROPS: tuple[Prop, ...] = (
    _p("loaded_by", S, "Loader that last wrote this row (code, git, traces, ...)."),
    _p("run_id", S, "Identifier of the load run that last wrote this row."),
)
# Carried by every relationship: where the fact comes from and how sure we are.
EDGE_PROPS: tuple[Prop, ...] = (
    _p("source", S, "Provenance: " + ", ".join(EDGE_SOURCES) + "."),
    _p("confidence", F, "Confidence in [0, 1] that the relationship is real."),
)


@dataclass(frozen=True)
class NodeType:
    label: str
    key_format: str
    doc: str
    props: tuple[Prop, ...]

    @property
    def all_props(self) -> tuple[Prop, ...]:
        return (Prop("uid", S, "Stable natural key: " + self.key_format), *self.props, *STAMP_PROPS)

    def prop(self, name: str) -> Prop | None:
        return next((p for p in self.all_props if p.name == name), None)


@dataclass(frozen=True)
class RelType:
    type: str
    pairs: tuple[tuple[str, str], ...]
    doc: str
    props: tuple[Prop, ...] = field(default=())

    @property
    def all_props(self) -> tuple[Prop, ...]:
        return (*EDGE_PROPS, *self.props, *STAMP_PROPS)

    def prop(self, name: str) -> Prop | None:
        return next((p for p in self.all_props if p.name == name), None)


_SEEN = (
    _p("first_seen", T, "First time this was observed (UTC)."),
    _p("last_seen", T, "Last time this was observed (UTC)."),
)
_TRAFFIC = (
    _p("count", I, "Requests observed."),
    _p("errors", I, "Requests that ended in error."),
    _p("p50_ms", F, "Median latency in milliseconds."),
    _p("p95_ms", F, "95th percentile latency in milliseconds."),
    _p("p99_ms", F, "99th percentile latency in milliseconds."),
    _p("sketch", S, "Mergeable latency sketch (base64), so later spans update percentiles."),
    *_SEEN,
)
_RISK = (
    _p("risk_score", F, "Latest calibrated failure likelihood from the risk model."),
    _p("risk_model", S, "Version of the model that wrote risk_score."),
)

NODES: tuple[NodeType, ...] = (
    NodeType(
        "Repository",
        "repo:<name>",
        "A source repository.",
        (
            _p("name", S, "Repository name.", indexed=True),
            _p("url", S, "Remote URL when known."),
            _p("default_branch", S, "Default branch name."),
            _p("path", S, "Where it was loaded from on disk."),
            _p("head", S, "Commit sha of the last loaded head."),
        ),
    ),
    NodeType(
        "File",
        "file:<repo>:<path>",
        "A source file at the loaded head.",
        (
            _p("path", S, "Repository-relative path with '/' separators.", indexed=True),
            _p("repo", S, "Repository name."),
            _p("language", S, "Language detected from the file name."),
            _p("loc", I, "Non-blank lines."),
            _p("is_test", B, "True for test files."),
            _p("content_hash", S, "SHA-1 of the content at the last parse (incremental loads)."),
            _p("parse_status", S, "ok, syntax_error (partial recovery), or reference."),
            _p("deleted", B, "True when the file no longer exists at head (kept for history)."),
            *_RISK,
        ),
    ),
    NodeType(
        "Class",
        "class:<repo>:<path>:<qualname>",
        "A class, struct, interface or type.",
        (
            _p("name", S, "Short name.", indexed=True),
            _p("qualname", S, "Qualified name within its file."),
            _p("path", S, "File path."),
            _p("language", S, "Language."),
            _p("start_line", I, "First line (1-based)."),
            _p("end_line", I, "Last line (1-based)."),
            _p("bases", L, "Base classes as written in the source."),
        ),
    ),
    NodeType(
        "Function",
        "fn:<repo>:<path>:<qualname>",
        "A function or method; `<module>` (a file's module-level code) and `Class.<body>` (a "
        "class body's code) are the callers of code outside functions.",
        (
            _p("name", S, "Short name.", indexed=True),
            _p("qualname", S, "Qualified name within its file (Class.method).", indexed=True),
            _p("path", S, "File path.", indexed=True),
            _p("language", S, "Language."),
            _p("start_line", I, "First line (1-based)."),
            _p("end_line", I, "Last line (1-based)."),
            _p("loc", I, "Lines of code."),
            _p("complexity", I, "Cyclomatic complexity."),
            _p("params", L, "Parameter names."),
            _p("is_test", B, "True for test functions."),
            _p("docstring", S, "First line(s) of the docstring or leading comment."),
            _p("deleted", B, "True when the function no longer exists at head."),
            *_RISK,
        ),
    ),
    NodeType(
        "External",
        "ext:<repo>:<qualified name>",
        "A function, class or method outside the repository that its code calls: a builtin "
        "(`<builtin>.eval`), the standard library (`subprocess.run`) or a package "
        "(`requests.post`). One node per name and repository; match `qualname` across them.",
        (
            _p("repo", S, "Repository whose code calls it."),
            _p("qualname", S, "Qualified name as imported (`os.path.join`).", indexed=True),
            _p("name", S, "Last part of the name.", indexed=True),
            _p("package", S, "Top-level package (`requests`, `os`, `builtins`).", indexed=True),
            _p("kind", S, "builtin, stdlib or package."),
        ),
    ),
    NodeType(
        "Commit",
        "commit:<sha>",
        "A commit.",
        (
            _p("sha", S, "Full commit sha.", indexed=True),
            _p("repo", S, "Repository name."),
            _p("authored_at", T, "Author time (UTC).", indexed=True),
            _p("committed_at", T, "Committer time (UTC)."),
            _p("tz_offset_min", I, "Author's timezone offset in minutes."),
            _p("message", S, "Full message."),
            _p("summary", S, "First line of the message."),
            _p("lines_added", I, "Lines added (all files)."),
            _p("lines_deleted", I, "Lines deleted (all files)."),
            _p("files_changed", I, "Files changed."),
            _p("is_merge", B, "More than one parent."),
            _p("is_fix", B, "Message says it fixes something."),
            _p("truncated", B, "Diff too large: function-level MODIFIES skipped."),
            _p(
                "cosmetic",
                B,
                "A reformatting commit: every hunk of the code files it changes is cosmetic "
                "(formatting, comments, whitespace), or `.git-blame-ignore-revs` lists it.",
            ),
            _p(
                "history_complete",
                B,
                "False while the git load that writes this commit's files, functions, fixes and "
                "SZZ links runs; true once all are written (an interrupted load redoes it).",
            ),
            *_RISK,
        ),
    ),
    NodeType(
        "Person",
        "person:<email>",
        "An author or committer (emails may be pseudonymised).",
        (
            _p("name", S, "Display name."),
            _p("email", S, "Email or pseudonym.", indexed=True),
        ),
    ),
    NodeType(
        "Service",
        "svc:<name>",
        "A running service.",
        (
            _p("name", S, "service.name", indexed=True),
            _p("namespace", S, "service.namespace"),
            _p("language", S, "telemetry.sdk.language"),
            _p("version", S, "Last seen service.version."),
            _p("environment", S, "Last seen deployment.environment.name."),
            *_SEEN,
        ),
    ),
    NodeType(
        "Operation",
        "op:<service>:<name>",
        "A span name served or called by a service.",
        (
            _p("name", S, "Span name.", indexed=True),
            _p("service", S, "Owning service."),
            _p("kind", S, "SERVER, CLIENT, PRODUCER, CONSUMER, INTERNAL."),
            _p("route", S, "http.route when present."),
            *_SEEN,
        ),
    ),
    NodeType(
        "Deployment",
        "deploy:<env>:<service>:<id>",
        "A rollout of a version of a service.",
        (
            _p("service", S, "Service name.", indexed=True),
            _p("version", S, "Version deployed."),
            _p("environment", S, "Target environment."),
            _p("sha", S, "Head commit deployed."),
            _p("started_at", T, "Start (UTC).", indexed=True),
            _p("finished_at", T, "End (UTC)."),
            _p("status", S, "success, failure, in_progress, ..."),
        ),
    ),
    NodeType(
        "ErrorSignature",
        "err:<fingerprint>",
        "A group of errors with one cause.",
        (
            _p("type", S, "Exception type."),
            _p("message_template", S, "Message with ids and numbers normalised."),
            _p("fingerprint", S, "Type + normalised in-app frames, hashed.", indexed=True),
            _p("frames", L, "Normalised in-app frames, innermost last."),
            _p("count", I, "Occurrences."),
            *_SEEN,
        ),
    ),
    NodeType(
        "Ticket",
        "ticket:<system>:<key>",
        "A bug, incident or question.",
        (
            _p("key", S, "Key in its system (123, ABC-7).", indexed=True),
            _p("system", S, "github, jira, csv, ..."),
            _p("title", S, "Title."),
            _p("body", S, "Body (secrets redacted)."),
            _p("kind", S, "bug, incident, question, feature, or reference."),
            _p("status", S, "open, closed, ..."),
            _p("severity", S, "Severity or priority."),
            _p("labels", L, "Labels."),
            _p("created_at", T, "Created (UTC).", indexed=True),
            _p("resolved_at", T, "Resolved (UTC)."),
            _p("fingerprint", S, "Error fingerprint of its stack trace, when any."),
        ),
    ),
    NodeType(
        "Resource",
        "res:<kind>:<name>",
        "A database, queue, cache, host, flag or config key.",
        (
            _p("kind", S, "database, queue, cache, host, feature_flag, config_key."),
            _p("name", S, "Name.", indexed=True),
            _p("system", S, "db.system, messaging.system, ..."),
        ),
    ),
)

_CH = (
    _p("lines_added", I, "Lines added, cosmetic hunks (formatting, comments) not counted."),
    _p("lines_deleted", I, "Lines deleted, cosmetic hunks not counted."),
)
# Syntax a change adds or removes in a function (tree-sitter kinds: loaders.git.syntax_delta).
_DELTA_KINDS = (
    ("conds", "conditions (if/elif/else, ternaries, switch/case/match) that"),
    ("loops", "loops (for/while/do) that"),
    ("excepts", "exception handling (try/except/catch/finally/raise/throw) that"),
    ("calls", "calls that"),
    ("returns", "returns and yields that"),
)

RELS: tuple[RelType, ...] = (
    RelType("CONTAINS", (("Repository", "File"),), "A repository contains a file."),
    RelType(
        "DEFINES",
        (("File", "Class"), ("File", "Function"), ("Class", "Function")),
        "Where a class or function is defined.",
    ),
    RelType(
        "IMPORTS",
        (("File", "File"),),
        "A resolved in-repo import.",
        (_p("names", L, "Imported names."),),
    ),
    RelType(
        "CALLS",
        (("Function", "Function"),),
        "A call site, static or observed.",
        (
            _p("resolution", S, "How it was resolved: self, import, local, class, trace, ..."),
            _p("line", I, "First call line."),
            _p("count", I, "Call sites, or calls observed in traces."),
            _p(
                "since",
                T,
                "When the first call line took its current form: the time of the commit that "
                "last wrote it (git history); null when unknown.",
            ),
        ),
    ),
    RelType(
        "CALLS_EXTERNAL",
        (("Function", "External"),),
        "A call site whose callee is outside the repository (static).",
        (
            _p("resolution", S, "import, builtin, decorator, inherited, constructor, instance."),
            _p("line", I, "First call line."),
            _p("count", I, "Call sites."),
        ),
    ),
    RelType("INHERITS", (("Class", "Class"),), "Class inheritance resolved in the repository."),
    RelType(
        "PARENT",
        (("Commit", "Commit"),),
        "Child commit -> parent commit.",
        (_p("position", I, "Parent position (0 = first parent)."),),
    ),
    RelType("AUTHORED", (("Person", "Commit"),), "Authorship."),
    RelType(
        "MODIFIES",
        (("Commit", "File"), ("Commit", "Function")),
        "What a commit changed.",
        (
            *_CH,
            _p("change", S, "added, modified, deleted, renamed."),
            _p("old_path", S, "Path before a rename."),
            *(
                _p(f"{kind}_{side}", I, f"Function: {what} its changed lines {verb}.")
                for kind, what in _DELTA_KINDS
                for side, verb in (("added", "add"), ("removed", "remove"))
            ),
            _p(
                "signature_changed",
                B,
                "Function: its parameters or return annotation changed (whitespace aside).",
            ),
        ),
    ),
    RelType(
        "INDUCED",
        (("Commit", "Commit"),),
        "Bug-introducing commit -> fixing commit.",
        (
            _p("method", S, "szz, declared, deployment."),
            _p("fixed_at", T, "When the fix landed: the label exists from then on."),
            _p("lines", I, "Blamed lines."),
        ),
    ),
    RelType(
        "FIXES",
        (("Commit", "Ticket"),),
        "A commit that resolves a ticket.",
        (_p("how", S, "keyword, trailer, pr_link, ticket_link."),),
    ),
    RelType(
        "BUILT_FROM",
        (("Service", "Repository"),),
        "Where a service's code lives.",
        (_p("path_prefix", S, "Monorepo folder."),),
    ),
    RelType(
        "EXPOSES",
        (("Service", "Operation"),),
        "A service serves or calls an operation.",
        (*_TRAFFIC,),
    ),
    RelType(
        "DEPENDS_ON",
        (("Service", "Service"), ("Service", "Resource")),
        "Runtime dependency from spans or configuration.",
        (*_TRAFFIC,),
    ),
    RelType(
        "CALLS_OP",
        (("Operation", "Operation"),),
        "Observed operation-to-operation calls.",
        (*_TRAFFIC,),
    ),
    RelType(
        "IMPLEMENTED_BY",
        (("Operation", "Function"),),
        "Code behind an operation.",
        (_p("count", I, "Spans that named this function."),),
    ),
    RelType("OF", (("Deployment", "Service"),), "The service a deployment rolled out."),
    RelType("SHIPS", (("Deployment", "Commit"),), "The head commit a deployment shipped."),
    RelType(
        "PRECEDES",
        (("Deployment", "Deployment"),),
        "Previous deployment of the same service and environment -> next one.",
    ),
    RelType(
        "RAISED_IN",
        (("ErrorSignature", "Function"),),
        "Innermost in-repo frame.",
        (_p("line", I, "Line of the frame."),),
    ),
    RelType(
        "SEEN_IN",
        (("ErrorSignature", "Service"), ("ErrorSignature", "Deployment")),
        "Where an error was observed.",
        (_p("count", I, "Occurrences."), *_SEEN),
    ),
    RelType(
        "MENTIONS",
        (
            ("Ticket", "Function"),
            ("Ticket", "File"),
            ("Ticket", "Service"),
            ("Ticket", "Commit"),
            ("Ticket", "ErrorSignature"),
        ),
        "Something a ticket names.",
        (_p("how", S, "frame, path, sha, name, fingerprint."),),
    ),
    RelType("REPORTS", (("Ticket", "ErrorSignature"),), "The error a ticket reports."),
    RelType(
        "DUPLICATE_OF",
        (("Ticket", "Ticket"),),
        "Declared or predicted duplicate.",
        (_p("score", F, "Similarity score when predicted."),),
    ),
    RelType(
        "AFFECTS",
        (("Ticket", "Service"), ("Ticket", "Deployment")),
        "Services or deployments an incident affects.",
    ),
    RelType(
        "USES",
        (("Service", "Resource"),),
        "Declared in configuration (manifests, .env).",
        (_p("via", S, "File that declares it."),),
    ),
)

_NODE_BY_LABEL = {n.label: n for n in NODES}
_REL_BY_TYPE = {r.type: r for r in RELS}


def node(label: str) -> NodeType:
    """The node type for `label`; KeyError names the label when it is unknown."""
    try:
        return _NODE_BY_LABEL[label]
    except KeyError:
        raise KeyError(f"unknown node label {label!r}") from None


def rel(type_: str) -> RelType:
    """The relationship type for `type_`; KeyError names it when it is unknown."""
    try:
        return _REL_BY_TYPE[type_]
    except KeyError:
        raise KeyError(f"unknown relationship type {type_!r}") from None


def arrow_schema_for_node(label: str) -> pa.Schema:
    return pa.schema([pa.field(p.name, p.type.arrow) for p in node(label).all_props])


def arrow_schema_for_rel(type_: str) -> pa.Schema:
    fields = [pa.field("src", pa.string()), pa.field("dst", pa.string())]
    fields += [pa.field(p.name, p.type.arrow) for p in rel(type_).all_props]
    return pa.schema(fields)
