"""A whole store as `neo4j-admin database import full` input: typed CSV files and a script.

Neo4j's users load millions of rows with the offline importer, not with transactions. This
writes, from any store (the embedded one usually):

- `nodes/<Label>.header.csv` + `nodes/<Label>.csv`: `uid:ID(<Label>)` (one ID space per label,
  the uid kept as a property), one typed column per schema property, `:LABEL`;
- `relationships/<TYPE>__<From>__<To>.header.csv` + data: `:START_ID(<From>)`,
  `:END_ID(<To>)`, typed properties, `:TYPE` (one file pair per endpoint pair);
- `import.sh`: `neo4j-admin database import full` with every `--nodes`/`--relationships`;
- `constraints.cypher`: the uniqueness constraints and indexes to run once the database is up.

Types follow the import header format: `long`, `double`, `boolean`, `localdatetime` (the
store's timestamps are UTC without an offset, as the transactional path writes them),
`string`, and `string[]` with the array delimiter (`;` unless a value holds one). Strings are
always quoted with `"` doubled inside (RFC 4180); a null is an empty unquoted field.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import math
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph_service import schema
from graph_service.errors import CallerError
from graph_service.store.base import GraphReader
from graph_service.store.neo4j_store import neo4j_ddl

logger = logging.getLogger(__name__)

__all__ = ["IMPORT_TYPES", "ImportExport", "export_neo4j_import", "format_value", "header"]

IMPORT_TYPES: dict[schema.PropType, str] = {
    schema.PropType.STRING: "string",
    schema.PropType.INT: "long",
    schema.PropType.FLOAT: "double",
    schema.PropType.BOOL: "boolean",
    schema.PropType.TIMESTAMP: "localdatetime",
    schema.PropType.STRING_LIST: "string[]",
}
# array delimiters tried in turn: the first that no exported list element contains
ARRAY_DELIMITERS = (";", "|", "\u001f")
_READ_TIMEOUT_S = 24 * 3600.0


@dataclass
class ImportExport:
    """What `export_neo4j_import` wrote."""

    out_dir: Path
    nodes: dict[str, int] = field(default_factory=dict)
    relationships: dict[str, int] = field(default_factory=dict)
    array_delimiter: str = ";"
    multiline: bool = False
    files: list[Path] = field(default_factory=list)


def header(
    columns: Sequence[tuple[str, schema.PropType]], *, first: Sequence[str], last: str
) -> str:
    """One header line: the id fields, typed properties, then `:LABEL` or `:TYPE`."""
    typed = [f"{name}:{IMPORT_TYPES[t]}" for name, t in columns]
    return ",".join([*first, *typed, last])


def format_value(v: Any, t: schema.PropType, delimiter: str) -> str:
    """A value as one CSV field for the importer (quoted when it is text)."""
    if v is None:
        return ""
    if t is schema.PropType.STRING_LIST:
        items = [str(x) for x in v if x is not None]
        # CSV import cannot tell an empty array from null: both import as no property
        return _quote(delimiter.join(items)) if items else ""
    if t is schema.PropType.BOOL:
        return "true" if v else "false"
    if t is schema.PropType.INT:
        return str(int(v))
    if t is schema.PropType.FLOAT:
        f = float(v)
        if math.isnan(f):
            return "NaN"
        if math.isinf(f):
            return "Infinity" if f > 0 else "-Infinity"
        return repr(f)
    if t is schema.PropType.TIMESTAMP:
        if isinstance(v, dt.datetime) and v.tzinfo is not None:
            v = v.astimezone(dt.UTC).replace(tzinfo=None)
        return v.isoformat() if isinstance(v, (dt.datetime, dt.date)) else _quote(str(v))
    return _quote(str(v))


def _quote(s: str) -> str:
    return '"' + s.replace('"', '""') + '"'


def _choose_delimiter(store: GraphReader) -> str:
    """The first array delimiter that no stored list element contains."""
    for delim in ARRAY_DELIMITERS:
        clash = False
        for pattern, prop in _list_props():
            q = (
                f"MATCH {pattern} WHERE n.{prop} IS NOT NULL "
                f"UNWIND n.{prop} AS x WITH x WHERE x CONTAINS $d RETURN count(*) AS c"
            )
            rows = store.query(q, {"d": delim}, timeout_s=_READ_TIMEOUT_S).rows()
            if rows and rows[0]["c"]:
                clash = True
                break
        if not clash:
            return delim
    raise CallerError(
        "every array delimiter the export knows (; | U+001F) occurs in a stored list value: "
        "the lists cannot be written for neo4j-admin import"
    )


def _list_props() -> Iterable[tuple[str, str]]:
    """(pattern binding `n`, property) of every list property of the schema."""
    for nt in schema.NODES:
        for p in nt.all_props:
            if p.type is schema.PropType.STRING_LIST:
                yield f"(n:{nt.label})", p.name
    for rt in schema.RELS:
        for p in rt.all_props:
            if p.type is schema.PropType.STRING_LIST:
                yield f"()-[n:{rt.type}]->()", p.name


def _write_pair(
    folder: Path, stem: str, head: str, rows: Iterable[list[str]]
) -> tuple[Path, Path, int, bool]:
    """Header file + data file; returns both paths, the row count and whether a field spans
    lines."""
    folder.mkdir(parents=True, exist_ok=True)
    head_path, data_path = folder / f"{stem}.header.csv", folder / f"{stem}.csv"
    head_path.write_text(head + "\n", encoding="utf-8")
    n, multiline = 0, False
    with data_path.open("w", encoding="utf-8", newline="") as f:
        for fields in rows:
            line = ",".join(fields)
            multiline = multiline or "\n" in line or "\r" in line
            f.write(line + "\n")
            n += 1
    return head_path, data_path, n, multiline


def export_neo4j_import(store: GraphReader, out_dir: Path) -> ImportExport:
    """Write every node and relationship of `store` as neo4j-admin import files under
    `out_dir` (which must be empty or new)."""
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise CallerError(f"{out_dir} is not empty: give a new or empty folder")
    out = ImportExport(out_dir)
    out.array_delimiter = delim = _choose_delimiter(store)
    args: list[str] = []

    def q(cypher: str) -> list[dict[str, Any]]:
        return store.query(cypher, {}, timeout_s=_READ_TIMEOUT_S, row_cap=None).rows()

    meta_rows = q(f"MATCH (m:{schema.META_LABEL}) RETURN m.key AS k, m.value AS v ORDER BY k")
    pair = _write_pair(
        out_dir / "nodes",
        schema.META_LABEL,
        f"key:ID({schema.META_LABEL}),value:string,:LABEL",
        (
            [_quote(r["k"]), format_value(r["v"], schema.PropType.STRING, delim), schema.META_LABEL]
            for r in meta_rows
        ),
    )
    args.append(_arg("--nodes", pair, out_dir))
    out.files += [pair[0], pair[1]]
    for nt in schema.NODES:
        props = [(p.name, p.type) for p in nt.all_props if p.name != "uid"]
        cols = ", ".join(f"n.{name} AS {name}" for name, _ in props)
        rows = q(f"MATCH (n:{nt.label}) RETURN n.uid AS uid, {cols} ORDER BY uid")
        pair = _write_pair(
            out_dir / "nodes",
            nt.label,
            header(props, first=[f"uid:ID({nt.label})"], last=":LABEL"),
            (
                [
                    _quote(r["uid"]),
                    *(format_value(r[name], t, delim) for name, t in props),
                    nt.label,
                ]
                for r in rows
            ),
        )
        out.nodes[nt.label] = pair[2]
        out.multiline |= pair[3]
        out.files += [pair[0], pair[1]]
        args.append(_arg("--nodes", pair, out_dir))
    for rt in schema.RELS:
        props = [(p.name, p.type) for p in rt.all_props]
        cols = "".join(f", r.{name} AS {name}" for name, _ in props)
        for src, dst in rt.pairs:
            rows = q(
                f"MATCH (a:{src})-[r:{rt.type}]->(b:{dst}) "
                f"RETURN a.uid AS src_uid, b.uid AS dst_uid{cols} ORDER BY src_uid, dst_uid"
            )
            pair = _write_pair(
                out_dir / "relationships",
                f"{rt.type}__{src}__{dst}",
                header(props, first=[f":START_ID({src})", f":END_ID({dst})"], last=":TYPE"),
                (
                    [
                        _quote(r["src_uid"]),
                        _quote(r["dst_uid"]),
                        *(format_value(r[name], t, delim) for name, t in props),
                        rt.type,
                    ]
                    for r in rows
                ),
            )
            key = rt.type if len(rt.pairs) == 1 else f"{rt.type}({src}->{dst})"
            out.relationships[key] = pair[2]
            out.multiline |= pair[3]
            out.files += [pair[0], pair[1]]
            args.append(_arg("--relationships", pair, out_dir))
    _write_script(out, args)
    (out_dir / "constraints.cypher").write_text(
        "".join(stmt + ";\n" for stmt in neo4j_ddl()), encoding="utf-8"
    )
    (out_dir / "export.json").write_text(
        json.dumps(
            {
                "schema_version": schema.SCHEMA_VERSION,
                "nodes": out.nodes,
                "relationships": out.relationships,
                "array_delimiter": delim,
                "multiline_fields": out.multiline,
            },
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )
    out.files += [out_dir / "import.sh", out_dir / "constraints.cypher", out_dir / "export.json"]
    return out


def _arg(flag: str, pair: tuple[Path, Path, int, bool], root: Path) -> str:
    return f"{flag}={pair[0].relative_to(root)},{pair[1].relative_to(root)}"


def _delimiter_arg(delim: str) -> str:
    return delim if delim.isprintable() else f"U+{ord(delim):04X}"


def _write_script(out: ImportExport, args: list[str]) -> None:
    options = [
        "--id-type=string",
        f"--array-delimiter={shlex.quote(_delimiter_arg(out.array_delimiter))}",
        f"--multiline-fields={'true' if out.multiline else 'false'}",
        "--legacy-style-quoting=false",
        *(shlex.quote(a) for a in args),
    ]
    text = io.StringIO()
    text.write(
        "#!/bin/sh\n"
        "# Load this prodgraph export into a new Neo4j 5 database with the offline importer.\n"
        "#   ./import.sh [DATABASE] [more neo4j-admin options]   (DATABASE defaults to neo4j)\n"
        "# The database must be stopped (or not exist). An existing database is replaced only\n"
        "# with --overwrite-destination=true. Afterwards start it (CREATE DATABASE or restart)\n"
        "# and run: cypher-shell -d DATABASE -f constraints.cypher\n"
        "set -eu\n"
        'cd "$(dirname "$0")"\n'
        'DATABASE="${1:-neo4j}"\n'
        "[ $# -gt 0 ] && shift\n"
        "exec neo4j-admin database import full \\\n"
    )
    for opt in options:
        text.write(f"  {opt} \\\n")
    text.write('  "$@" "$DATABASE"\n')
    path = out.out_dir / "import.sh"
    path.write_text(text.getvalue(), encoding="utf-8")
    path.chmod(0o755)
