"""The named Cypher query library: load `cypher/*.cypher`, bind parameters, run, lint."""

from __future__ import annotations

import argparse
import json
import logging
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa

from graph_service import schema
from graph_service.errors import CallerError, NotFoundError, OperatorError, ProdgraphError
from graph_service.store.base import GraphStore, QueryResult

logger = logging.getLogger(__name__)

__all__ = [
    "BACKENDS",
    "PARAM_TYPES",
    "LintReport",
    "NamedQuery",
    "Param",
    "QueryLibraryError",
    "bind_value",
    "find_symbols",
    "library_markdown",
    "lint_queries",
    "load_library",
    "main",
    "params_used",
    "parse_query",
    "run_named",
    "schema_catalog",
]

BACKENDS = ("ladybug", "neo4j")
PARAM_TYPES = ("STRING", "INT", "FLOAT", "BOOL", "DATETIME", "LIST<STRING>")
LADYBUG_SUFFIX = ".ladybug.cypher"
LINT_DIR = Path(__file__).resolve().parent.parent / "tools" / "cypher_lint"

_HEADER = re.compile(r"^//\s*(name|description|param|default):\s*(.*?)\s*$")
_PARAM = re.compile(r"^(\w+)\s+(STRING|INT|FLOAT|BOOL|DATETIME|LIST<STRING>)(?:\s+(.*))?$")
_DEFAULT = re.compile(r"^(\w+)\s+(.*)$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_SKIP = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`[^`]*`|//[^\n]*|/\*.*?\*/", re.DOTALL)
_USED = re.compile(r"\$(\w+)")
_SAMPLES: dict[str, object] = {"STRING": "x", "INT": 1, "FLOAT": 1.0, "BOOL": True}
_SAMPLES |= {"DATETIME": datetime(2024, 1, 1), "LIST<STRING>": ["x"]}
_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off"}


class QueryLibraryError(ProdgraphError):
    """A query file in the library is malformed: a bug in the package, not in the request."""

    code = "query_library"


@dataclass(frozen=True)
class Param:
    """One declared `$parameter`: its type, what it means, and its default when optional."""

    name: str
    type: str
    description: str
    default: object | None = None
    required: bool = True

    def sample(self) -> object:
        """A value of the right type, for linters and documentation."""
        value = _SAMPLES[self.type] if self.default is None else self.default
        return value.isoformat() if isinstance(value, datetime) else value


@dataclass(frozen=True)
class NamedQuery:
    """One query of the library: Neo4j text (linted), an optional Ladybug variant, its params."""

    name: str
    description: str
    params: tuple[Param, ...]
    neo4j_text: str
    ladybug_text: str | None = None

    def text(self, backend: str) -> str:
        """The query text for `backend` ('ladybug' or 'neo4j')."""
        if backend not in BACKENDS:
            raise CallerError(f"unknown backend {backend!r} (expected one of {BACKENDS})")
        if backend == "ladybug" and self.ladybug_text is not None:
            return self.ladybug_text
        return self.neo4j_text

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def bind(self, raw: Mapping[str, object]) -> dict[str, object]:
        """Typed parameter values from strings (CLI/API) or JSON values; defaults filled in.

        Raises CallerError naming the parameter when one is unknown, missing or malformed.
        """
        unknown = sorted(set(raw) - {p.name for p in self.params})
        if unknown:
            known = ", ".join(p.name for p in self.params) or "none"
            raise CallerError(
                f"query {self.name!r} has no parameter {unknown[0]!r} (parameters: {known})",
                {"query": self.name, "param": unknown[0]},
            )
        bound: dict[str, object] = {}
        missing = [p for p in self.params if p.required and raw.get(p.name) is None]
        if missing:
            needs = "; ".join(f"{p.name!r} ({p.type}): {p.description}" for p in missing)
            raise CallerError(
                f"query {self.name!r} needs parameter{'s' if len(missing) > 1 else ''} {needs}",
                {"query": self.name, "param": missing[0].name},
            )
        for p in self.params:
            if p.name in raw and raw[p.name] is not None:
                bound[p.name] = bind_value(self.name, p, raw[p.name])
            else:
                bound[p.name] = p.default
        return bound

    def describe(self) -> dict[str, object]:
        """A JSON-able description (API and docs)."""
        return {
            "name": self.name,
            "description": self.description,
            "params": [
                {
                    "name": p.name,
                    "type": p.type,
                    "description": p.description,
                    "required": p.required,
                    "default": p.sample() if not p.required and p.default is not None else None,
                }
                for p in self.params
            ],
            "ladybug_variant": self.ladybug_text is not None,
        }


def bind_value(query: str, p: Param, value: object) -> object:
    """Convert one raw value to `p.type`; CallerError names the parameter when it cannot."""
    try:
        return _CONVERT[p.type](value)
    except (TypeError, ValueError, OverflowError) as e:
        raise CallerError(
            f"query {query!r}: parameter {p.name!r} must be {p.type}, got {value!r} ({e})",
            {"query": query, "param": p.name},
        ) from e


def _to_string(v: object) -> str:
    """Text; a JSON number is taken as its text (a ticket key sent as 123)."""
    if isinstance(v, bool) or not isinstance(v, (str, int, float)):
        raise TypeError("expected text")
    return v if isinstance(v, str) else str(v)


def _to_int(v: object) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, str)):
        raise TypeError("expected an integer")
    return int(v.strip()) if isinstance(v, str) else v


def _to_float(v: object) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise TypeError("expected a number")
    return float(v)


def _to_bool(v: object) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.strip().lower() in _TRUE | _FALSE:
        return v.strip().lower() in _TRUE
    raise ValueError("expected true or false")


def _to_datetime(v: object) -> datetime:
    """Naive UTC: offsets are applied, then dropped (the schema stores naive UTC times)."""
    if isinstance(v, datetime):
        value = v
    elif isinstance(v, date):
        value = datetime(v.year, v.month, v.day)
    elif isinstance(v, str):
        text = v.strip()
        value = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    else:
        raise TypeError("expected an ISO 8601 date or time")
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def _to_list(v: object) -> list[str]:
    if isinstance(v, str):
        return [s.strip() for s in v.split(",") if s.strip()]
    if isinstance(v, (list, tuple)) and all(isinstance(s, str) for s in v):
        return list(v)
    raise TypeError("expected a list of strings or comma-separated text")


_CONVERT = {
    "STRING": _to_string,
    "INT": _to_int,
    "FLOAT": _to_float,
    "BOOL": _to_bool,
    "DATETIME": _to_datetime,
    "LIST<STRING>": _to_list,
}


def params_used(text: str) -> set[str]:
    """`$names` in a query text, outside strings and comments."""
    return set(_USED.findall(_SKIP.sub(" ", text)))


def _split_header(source: str, what: str) -> tuple[dict[str, list[str]], str]:
    """Leading `//` lines as {key: [values]} (others continue the description), and the body."""
    lines = source.splitlines()
    end = next((i for i, line in enumerate(lines) if not line.strip().startswith("//")), len(lines))
    header: dict[str, list[str]] = {}
    for line in lines[:end]:
        stripped = line.strip()
        m = _HEADER.match(stripped)
        if m:
            header.setdefault(m.group(1), []).append(m.group(2))
        elif header.get("description") and stripped.strip("/ "):
            header["description"][-1] += " " + stripped.lstrip("/ ").strip()
    body = "\n".join(lines[end:]).strip()
    if not body:
        raise QueryLibraryError(f"{what}: no query text after the header")
    return header, body + "\n"


def _parse_params(header: Mapping[str, list[str]], what: str) -> tuple[Param, ...]:
    defaults: dict[str, str] = {}
    for line in header.get("default", []):
        m = _DEFAULT.match(line)
        if not m:
            raise QueryLibraryError(f"{what}: malformed default line {line!r}")
        defaults[m.group(1)] = m.group(2)
    params = []
    for line in header.get("param", []):
        m = _PARAM.match(line)
        if not m:
            raise QueryLibraryError(
                f"{what}: malformed param line {line!r} (want 'NAME TYPE description', TYPE one "
                f"of {', '.join(PARAM_TYPES)})"
            )
        name, type_, desc = m.group(1), m.group(2), m.group(3) or ""
        p = Param(name, type_, desc)
        if name in defaults and defaults[name] == "null":
            # optional with no value: the query computes its own default (e.g. from the data)
            defaults.pop(name)
            p = Param(name, type_, desc, None, required=False)
        elif name in defaults:
            raw = defaults.pop(name)
            try:
                value = bind_value(what, p, "" if raw in ("''", '""') else raw)
            except CallerError as e:
                raise QueryLibraryError(f"{what}: bad default: {e.message}") from e
            p = Param(name, type_, desc, value, required=False)
        params.append(p)
    if defaults:
        raise QueryLibraryError(
            f"{what}: default for undeclared parameter {next(iter(defaults))!r}"
        )
    return tuple(params)


def parse_query(source: str, *, file_name: str, ladybug_source: str | None = None) -> NamedQuery:
    """Parse one query file (and its Ladybug variant); QueryLibraryError says what is wrong."""
    header, body = _split_header(source, file_name)
    names = header.get("name", [])
    descriptions = header.get("description", [])
    if len(names) != 1 or not _NAME.match(names[0]):
        raise QueryLibraryError(f"{file_name}: needs exactly one '// name: snake_case' line")
    if len(descriptions) != 1 or not descriptions[0]:
        raise QueryLibraryError(f"{file_name}: needs one '// description: ...' line")
    name = names[0]
    if file_name.removesuffix(".cypher") != name:
        raise QueryLibraryError(f"{file_name}: header name {name!r} differs from the file name")
    params = _parse_params(header, file_name)
    ladybug_body = None
    if ladybug_source is not None:
        lb_header, ladybug_body = _split_header(ladybug_source, name + LADYBUG_SUFFIX)
        if lb_header and (
            lb_header.get("name") != [name]
            or _parse_params(lb_header, name + LADYBUG_SUFFIX) != params
        ):
            raise QueryLibraryError(f"{name}{LADYBUG_SUFFIX}: header differs from {file_name}")
    declared = {p.name for p in params}
    for text, what in ((body, file_name), (ladybug_body, name + LADYBUG_SUFFIX)):
        if text is None:
            continue
        used = params_used(text)
        if used - declared:
            raise QueryLibraryError(f"{what}: undeclared parameter ${sorted(used - declared)[0]}")
        if declared - used:
            raise QueryLibraryError(
                f"{what}: declared parameter {sorted(declared - used)[0]!r} is not used"
            )
    return NamedQuery(name, descriptions[0], params, body, ladybug_body)


def load_library(package: str = "cypher") -> dict[str, NamedQuery]:
    """Every named query shipped in `package`, by name (sorted)."""
    root = resources.files(package)
    files = {f.name: f for f in root.iterdir() if f.name.endswith(".cypher")}
    library: dict[str, NamedQuery] = {}
    for file_name in sorted(files):
        if file_name.endswith(LADYBUG_SUFFIX):
            if file_name.removesuffix(LADYBUG_SUFFIX) + ".cypher" not in files:
                raise QueryLibraryError(f"{file_name}: no Neo4j text beside it")
            continue
        variant = files.get(file_name.removesuffix(".cypher") + LADYBUG_SUFFIX)
        q = parse_query(
            files[file_name].read_text(encoding="utf-8"),
            file_name=file_name,
            ladybug_source=variant.read_text(encoding="utf-8") if variant else None,
        )
        library[q.name] = q
    return library


def run_named(
    store: GraphStore,
    name: str,
    raw_params: Mapping[str, object] | None = None,
    *,
    timeout_s: float | None = None,
    row_cap: int | None = None,
    library: Mapping[str, NamedQuery] | None = None,
) -> QueryResult:
    """Bind and run named query `name` on `store` (any GraphStore), read-only."""
    lib = library if library is not None else load_library()
    if name not in lib:
        raise NotFoundError(
            f"no named query {name!r} (known: {', '.join(sorted(lib))})", {"query": name}
        )
    q = lib[name]
    params = _full_commit_uids(store, q.bind(raw_params or {}))
    result = store.query(q.text(store.backend), params, timeout_s=timeout_s, row_cap=row_cap)
    result.table = _integral_decimals_to_int(result.table)
    return result


_SHORT_COMMIT = re.compile(r"commit:[0-9a-fA-F]{4,39}")
_COMMIT_PREFIX = "MATCH (c:Commit) WHERE c.uid STARTS WITH $p RETURN c.uid AS uid LIMIT 2"


def _full_commit_uids(store: GraphStore, params: dict[str, Any]) -> dict[str, Any]:
    """A commit uid given by a short sha (`commit:9835b0f761`, as the risk table and git print
    it) stands for the one stored commit it starts; several are a caller error, none is left
    as given (the query then answers nothing)."""

    def full(v: object) -> object:
        if not isinstance(v, str) or not _SHORT_COMMIT.fullmatch(v):
            return v
        hits = [r["uid"] for r in store.query(_COMMIT_PREFIX, {"p": v.lower()}).rows()]
        if len(hits) > 1:
            raise CallerError(f"{v!r} starts several commits' uids: give more of the sha")
        return hits[0] if hits else v

    return {k: [full(x) for x in v] if isinstance(v, list) else full(v) for k, v in params.items()}


def find_symbols(
    store: GraphStore, name: str, *, limit: int = 10, timeout_s: float | None = None
) -> list[dict[str, Any]]:
    """Functions and classes matching `name` (the `find` query), best match first."""
    rows = run_named(store, "find", {"name": name, "limit": limit}, timeout_s=timeout_s).rows()
    rows.sort(
        key=lambda r: (r["gone"], r["rank"], r["is_test"], len(r["qualname"] or ""), r["uid"])
    )
    return rows[:limit]


def _integral_decimals_to_int(table: pa.Table) -> pa.Table:
    """Ladybug sums INT64 into INT128, which Arrow carries as decimal(38, 0): make it int64."""
    for i, f in enumerate(table.schema):
        if pa.types.is_decimal(f.type) and f.type.scale == 0:
            table = table.set_column(i, f.name, table.column(i).cast(pa.int64()))
    return table


def schema_catalog() -> dict[str, Any]:
    """Labels, relationship types and property keys of the schema (linter, editor completion)."""
    props: set[str] = set()
    nodes: dict[str, list[str]] = {}
    for n in schema.NODES:
        nodes[n.label] = [p.name for p in n.all_props]
        props.update(nodes[n.label])
    rels: dict[str, dict[str, Any]] = {}
    for r in schema.RELS:
        rels[r.type] = {"pairs": [list(p) for p in r.pairs], "props": [p.name for p in r.all_props]}
        props.update(rels[r.type]["props"])
    return {
        "labels": [n.label for n in schema.NODES],
        "relationshipTypes": [r.type for r in schema.RELS],
        "propertyKeys": sorted(props),
        "nodes": nodes,
        "relationships": rels,
    }


@dataclass
class LintReport:
    """What Neo4j's linter said about each query; `ok` is False when any finding fails CI."""

    ok: bool
    results: list[dict[str, Any]]

    def failures(self) -> dict[str, list[str]]:
        return {
            r["name"]: [d["message"] for d in r["diagnostics"] if d["failing"]]
            for r in self.results
            if any(d["failing"] for d in r["diagnostics"])
        }

    def format(self) -> str:
        lines = []
        for r in self.results:
            status = "ok" if not any(d["failing"] for d in r["diagnostics"]) else "FAIL"
            lines.append(f"{status:4} {r['name']}")
            lines += [
                f"     {d['line']}:{d['column']} {'error' if d['failing'] else 'note'}: "
                f"{d['message'].splitlines()[0]}"
                for d in r["diagnostics"]
            ]
        return "\n".join(lines)


def lint_document(queries: Iterable[NamedQuery]) -> dict[str, Any]:
    """The JSON document `tools/cypher_lint/lint.mjs` reads on stdin."""
    catalog = schema_catalog()
    return {
        "catalog": {k: catalog[k] for k in ("labels", "relationshipTypes", "propertyKeys")},
        "queries": [
            {
                "name": q.name,
                "text": q.neo4j_text,
                "parameters": {p.name: p.sample() for p in q.params},
            }
            for q in queries
        ],
    }


def lint_queries(
    queries: Sequence[NamedQuery] | None = None,
    *,
    lint_dir: Path = LINT_DIR,
    timeout_s: float = 120,
) -> LintReport:
    """Lint the Neo4j text of `queries` (default: the whole library) with Neo4j's linter."""
    node = shutil.which("node")
    if node is None or not (lint_dir / "node_modules").is_dir():
        raise OperatorError(
            f"Neo4j's Cypher linter is not installed: run `npm ci --prefix {lint_dir}` "
            "(needs Node.js)"
        )
    doc = lint_document(queries if queries is not None else load_library().values())
    try:
        proc = subprocess.run(
            [node, str(lint_dir / "lint.mjs"), "--json"],
            input=json.dumps(doc),
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as e:
        raise OperatorError(f"the Cypher linter ran longer than {timeout_s} s") from e
    try:
        out = json.loads(proc.stdout)
    except json.JSONDecodeError as e:
        raise OperatorError(f"the Cypher linter failed: {proc.stderr.strip()[-2000:]}") from e
    return LintReport(bool(out["ok"]) and proc.returncode == 0, list(out["results"]))


def library_markdown(library: Mapping[str, NamedQuery] | None = None) -> str:
    """The library as a markdown table (name, what it answers, parameters) for docs/cypher.md."""
    lines = ["| name | what it answers | parameters |", "| --- | --- | --- |"]
    for q in (library if library is not None else load_library()).values():
        params = "<br>".join(
            f"`{p.name}` `{p.type}`"
            + ("" if p.required else " (optional)" if p.default is None else f" = `{p.sample()!r}`")
            for p in q.params
        )
        variant = " (Ladybug variant)" if q.ladybug_text is not None else ""
        lines.append(f"| `{q.name}`{variant} | {q.description} | {params or '-'} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m graph_service.queries lint|list|table`."""
    parser = argparse.ArgumentParser(prog="python -m graph_service.queries")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("lint", help="lint every named query with Neo4j's Cypher linter")
    sub.add_parser("list", help="list the named queries and their parameters as JSON")
    sub.add_parser("table", help="print the library as the markdown table of docs/cypher.md")
    args = parser.parse_args(argv)
    if args.command == "list":
        print(json.dumps([q.describe() for q in load_library().values()], indent=2))
        return 0
    if args.command == "table":
        print(library_markdown(), end="")
        return 0
    report = lint_queries()
    print(report.format())
    print("cypher lint: " + ("ok" if report.ok else f"{len(report.failures())} queries failed"))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
