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

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph_service import schema
from graph_service.errors import CallerError
from graph_service.store.base import GraphReader
from graph_service.store.neo4j_store import neo4j_ddl

logger = logging.getLogger(__name__)

__all__ = [
    "IMPORT_TYPES",
    "ImportExport",
    "export_neo4j_import",
    "format_column",
    "format_value",
    "header",
]

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
_CHUNK = 200_000  # rows formatted and written at a time


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


def format_column(
    values: pa.Array | pa.ChunkedArray, t: schema.PropType, delimiter: str
) -> pa.Array:
    """A whole column as CSV fields (no nulls: a null is an empty field), vectorised; the same
    text as `format_value` per value, or the value's equal (`3` for `3.0`, `1e-7`)."""
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    try:
        out = _format_arrow(arr, t, delimiter)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, TypeError):
        out = None
    if out is None:  # a type the fast path does not take (values another tool wrote)
        return pa.array([format_value(v, t, delimiter) for v in arr.to_pylist()], pa.string())
    return pc.fill_null(out, "")


def _format_arrow(arr: pa.Array, t: schema.PropType, delim: str) -> pa.Array | None:
    P = schema.PropType
    if pa.types.is_null(arr.type):
        return pa.nulls(len(arr), pa.string())
    if t is P.STRING:
        return _quote_arrow(pc.cast(arr, pa.string()))
    if t is P.STRING_LIST:
        if not pa.types.is_list(arr.type) or pc.list_flatten(arr).null_count:
            return None
        joined = pc.binary_join(pc.cast(arr, pa.list_(pa.string())), delim)
        empty = pc.equal(pc.list_value_length(arr), 0)
        return pc.if_else(empty, pa.scalar(None, pa.string()), _quote_arrow(joined))
    if t is P.BOOL:
        return pc.if_else(pc.cast(arr, pa.bool_()), "true", "false")
    if t is P.INT:
        return pc.cast(pc.cast(arr, pa.int64()), pa.string())
    if t is P.FLOAT:
        text = pc.cast(pc.cast(arr, pa.float64()), pa.string())
        for arrow_text, java_text in (("nan", "NaN"), ("inf", "Infinity"), ("-inf", "-Infinity")):
            text = pc.if_else(pc.equal(text, arrow_text), java_text, text)
        return text
    if t is P.TIMESTAMP:
        if not pa.types.is_timestamp(arr.type):
            return None
        naive = arr.cast(pa.timestamp("us"))  # an offset-aware column: its UTC instants
        return pc.strftime(naive, format="%Y-%m-%dT%H:%M:%S")
    return None


def _quote_arrow(text: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")


def _write_pair(
    folder: Path, stem: str, head: str, columns: list[pa.Array]
) -> tuple[Path, Path, int, bool]:
    """Header file + data file (one line per row of `columns`, fields already formatted);
    returns both paths, the row count and whether a field spans lines."""
    folder.mkdir(parents=True, exist_ok=True)
    head_path, data_path = folder / f"{stem}.header.csv", folder / f"{stem}.csv"
    head_path.write_text(head + "\n", encoding="utf-8")
    n = len(columns[0]) if columns else 0
    multiline = False
    with data_path.open("w", encoding="utf-8", newline="") as f:
        for start in range(0, n, _CHUNK):
            part = [c.slice(start, _CHUNK) for c in columns]
            lines = pc.binary_join_element_wise(*part, ",")
            multiline = multiline or bool(pc.any(pc.match_substring_regex(lines, "[\r\n]")).as_py())
            f.write("\n".join(lines.to_pylist()) + "\n")
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

    def q(cypher: str) -> pa.Table:
        return store.query(cypher, {}, timeout_s=_READ_TIMEOUT_S, row_cap=None).table

    def const(value: str, n: int) -> pa.Array:
        return pa.array([value], pa.string()).take(pa.array(np.zeros(n, dtype=np.int64)))

    S = schema.PropType.STRING
    meta = q(f"MATCH (m:{schema.META_LABEL}) RETURN m.key AS k, m.value AS v ORDER BY k")
    pair = _write_pair(
        out_dir / "nodes",
        schema.META_LABEL,
        f"key:ID({schema.META_LABEL}),value:string,:LABEL",
        [
            format_column(meta.column("k"), S, delim),
            format_column(meta.column("v"), S, delim),
            const(schema.META_LABEL, meta.num_rows),
        ],
    )
    args.append(_arg("--nodes", pair, out_dir))
    out.files += [pair[0], pair[1]]
    for nt in schema.NODES:
        props = [(p.name, p.type) for p in nt.all_props if p.name != "uid"]
        cols = ", ".join(f"n.{name} AS {name}" for name, _ in props)
        table = q(f"MATCH (n:{nt.label}) RETURN n.uid AS uid, {cols}")
        pair = _write_pair(
            out_dir / "nodes",
            nt.label,
            header(props, first=[f"uid:ID({nt.label})"], last=":LABEL"),
            [
                format_column(table.column("uid"), S, delim),
                *(format_column(table.column(name), t, delim) for name, t in props),
                const(nt.label, table.num_rows),
            ],
        )
        out.nodes[nt.label] = pair[2]
        out.multiline |= pair[3]
        out.files += [pair[0], pair[1]]
        args.append(_arg("--nodes", pair, out_dir))
    for rt in schema.RELS:
        props = [(p.name, p.type) for p in rt.all_props]
        cols = "".join(f", r.{name} AS {name}" for name, _ in props)
        for src, dst in rt.pairs:
            table = q(
                f"MATCH (a:{src})-[r:{rt.type}]->(b:{dst}) "
                f"RETURN a.uid AS src_uid, b.uid AS dst_uid{cols}"
            )
            pair = _write_pair(
                out_dir / "relationships",
                f"{rt.type}__{src}__{dst}",
                header(props, first=[f":START_ID({src})", f":END_ID({dst})"], last=":TYPE"),
                [
                    format_column(table.column("src_uid"), S, delim),
                    format_column(table.column("dst_uid"), S, delim),
                    *(format_column(table.column(name), t, delim) for name, t in props),
                    const(rt.type, table.num_rows),
                ],
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
