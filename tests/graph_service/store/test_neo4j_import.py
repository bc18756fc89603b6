"""`prodgraph export neo4j-import`: the files are what `neo4j-admin database import full`
reads, per the Neo4j import documentation (header format, ID spaces, types, arrays, quoting),
written from a real embedded store."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from graph_service import batch as B
from graph_service import schema
from graph_service.errors import CallerError
from graph_service.settings import Settings
from graph_service.store import GraphStore, open_store
from graph_service.store.neo4j_import import IMPORT_TYPES, export_neo4j_import, format_value
from graph_service.store.neo4j_store import neo4j_ddl
from tests.fixtures.graph import build_fixture_graph

# the importer's input is the embedded store (docs/cypher.md: build there, then export)
pytestmark = pytest.mark.embedded_only

# <name>:<type> with the documented type names; arrays append []
FIELD = re.compile(
    r"^[A-Za-z_][A-Za-z0-9_]*:(int|long|float|double|boolean|byte|short|char|string|point|date"
    r"|localtime|time|localdatetime|datetime|duration)(\[\])?$"
)
LOCALDATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?$")
TRICKY = 'say "hi", then\nleave; ok'


def _read(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))  # RFC 4180: quotes doubled, fields may span lines


def _raw_fields(path: Path) -> list[list[str]]:
    """Fields as written (quotes kept), to tell `""` (empty string) from `` (null)."""
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f, quoting=csv.QUOTE_NONE, escapechar=None))


@pytest.fixture
def exported(store: GraphStore, tmp_path: Path) -> tuple[GraphStore, Path, Any]:
    build_fixture_graph(store)
    store.write(
        B.nodes(
            "Function",
            [
                {"uid": "fn:r:odd.py:f", "name": TRICKY, "params": ["a", 'b"c', "d,e"], "loc": 3},
                {"uid": "fn:r:odd.py:g", "name": "", "params": [], "is_test": True},
            ],
        ),
        loaded_by="t",
        run_id="1",
    )
    out = export_neo4j_import(store, tmp_path / "export")
    return store, tmp_path / "export", out


def test_headers_follow_the_import_header_format(exported: tuple[GraphStore, Path, Any]) -> None:
    _, root, _ = exported
    for nt in schema.NODES:
        head = (root / "nodes" / f"{nt.label}.header.csv").read_text().strip().split(",")
        assert head[0] == f"uid:ID({nt.label})"  # an ID space per label, uid kept as property
        assert head[-1] == ":LABEL"
        typed = head[1:-1]
        assert all(FIELD.match(f) for f in typed), typed
        assert [f.split(":")[0] for f in typed] == [p.name for p in nt.all_props][1:]
        for f, p in zip(typed, nt.all_props[1:], strict=True):
            assert f.split(":", 1)[1] == IMPORT_TYPES[p.type]
    for rt in schema.RELS:
        for src, dst in rt.pairs:
            path = root / "relationships" / f"{rt.type}__{src}__{dst}.header.csv"
            head = path.read_text().strip().split(",")
            assert head[:2] == [f":START_ID({src})", f":END_ID({dst})"]
            assert head[-1] == ":TYPE"
            assert all(FIELD.match(f) for f in head[2:-1])
    assert IMPORT_TYPES[schema.PropType.INT] == "long"
    assert IMPORT_TYPES[schema.PropType.TIMESTAMP] == "localdatetime"  # as LOCAL DATETIME


def test_rows_match_the_store_exactly(exported: tuple[GraphStore, Path, Any]) -> None:
    store, root, out = exported
    counts = store.counts()
    ids: dict[str, set[str]] = {}
    for nt in schema.NODES:
        rows = _read(root / "nodes" / f"{nt.label}.csv")
        assert len(rows) == counts["nodes"][nt.label] == out.nodes[nt.label]
        assert all(r[-1] == nt.label for r in rows)
        ids[nt.label] = {r[0] for r in rows}
        assert len(ids[nt.label]) == len(rows)  # unique within the ID space
    for rt in schema.RELS:
        total = 0
        for src, dst in rt.pairs:
            rows = _read(root / "relationships" / f"{rt.type}__{src}__{dst}.csv")
            total += len(rows)
            # every relationship points into the ID spaces the header names
            assert all(r[0] in ids[src] and r[1] in ids[dst] and r[-1] == rt.type for r in rows)
        assert total == counts["edges"][rt.type], rt.type


def test_values_arrays_datetimes_and_quoting(exported: tuple[GraphStore, Path, Any]) -> None:
    store, root, out = exported
    assert out.array_delimiter == ";" and out.multiline  # no ';' inside a list; a newline
    head = (root / "nodes" / "Function.header.csv").read_text().strip().split(",")
    col = {f.split(":")[0]: i for i, f in enumerate(head)}
    rows = {r[0]: r for r in _read(root / "nodes" / "Function.csv")}
    odd, empty = rows["fn:r:odd.py:f"], rows["fn:r:odd.py:g"]
    assert odd[col["name"]] == TRICKY
    assert odd[col["params"]].split(";") == ["a", 'b"c', "d,e"]
    assert odd[col["loc"]] == "3"
    assert empty[col["is_test"]] == "true"
    raw = {
        r[0]: r
        for r in _raw_fields(root / "nodes" / "Function.csv")
        if r and r[0].startswith('"fn:r:odd.py:g')
    }
    g = raw['"fn:r:odd.py:g"']
    assert g[col["name"]] == '""'  # an empty string stays a string ...
    assert g[col["params"]] == ""  # ... an empty list, like null, is no property
    assert g[col["loc"]] == ""
    # timestamps: ISO local date-times equal to what the store holds
    commits = _read(root / "nodes" / "Commit.csv")
    chead = (root / "nodes" / "Commit.header.csv").read_text().strip().split(",")
    at = chead.index("authored_at:localdatetime")
    stored = {
        r["uid"]: r["t"]
        for r in store.query("MATCH (c:Commit) RETURN c.uid AS uid, c.authored_at AS t").rows()
    }
    for r in commits:
        if r[at]:
            assert LOCALDATETIME.match(r[at]), r[at]
            assert dt.datetime.fromisoformat(r[at]) == stored[r[0]]
    assert any(r[at] for r in commits)


def test_script_and_constraints(exported: tuple[GraphStore, Path, Any]) -> None:
    _, root, out = exported
    script = (root / "import.sh").read_text()
    assert script.startswith("#!/bin/sh") and (root / "import.sh").stat().st_mode & 0o111
    words = shlex.split(script.split("exec ", 1)[1].replace("\\\n", " "))
    assert words[:4] == ["neo4j-admin", "database", "import", "full"]
    assert "--array-delimiter=;" in words and "--multiline-fields=true" in words
    sources = [w.split("=", 1) for w in words if w.startswith(("--nodes=", "--relationships="))]
    assert len(sources) == len(schema.NODES) + 1 + sum(len(r.pairs) for r in schema.RELS)
    for _, files in sources:
        head, data = files.split(",")
        assert head.endswith(".header.csv") and data == head.replace(".header.csv", ".csv")
        assert (root / head).exists() and (root / data).exists()
    assert (root / "constraints.cypher").read_text() == "".join(s + ";\n" for s in neo4j_ddl())
    meta = json.loads((root / "export.json").read_text())
    assert meta["schema_version"] == schema.SCHEMA_VERSION and meta["nodes"] == out.nodes
    prodmeta = _read(root / "nodes" / f"{schema.META_LABEL}.csv")
    assert ["schema_version", str(schema.SCHEMA_VERSION), schema.META_LABEL] in prodmeta


def test_a_list_value_holding_the_delimiter_switches_it(store: GraphStore, tmp_path: Path) -> None:
    store.write(
        B.nodes("Function", [{"uid": "fn:x", "name": "x", "params": ["a;b", "c"]}]),
        loaded_by="t",
        run_id="1",
    )
    out = export_neo4j_import(store, tmp_path / "e")
    assert out.array_delimiter == "|"
    assert "--array-delimiter='|'" in (tmp_path / "e" / "import.sh").read_text()
    row = _read(tmp_path / "e" / "nodes" / "Function.csv")[0]
    assert "a;b|c" in row


def test_format_value_edge_cases() -> None:
    T = schema.PropType
    assert format_value(float("nan"), T.FLOAT, ";") == "NaN"
    assert format_value(float("-inf"), T.FLOAT, ";") == "-Infinity"
    assert format_value(0.1, T.FLOAT, ";") == "0.1"
    aware = dt.datetime(2024, 1, 2, 5, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert format_value(aware, T.TIMESTAMP, ";") == "2024-01-02T03:00:00"
    assert format_value(None, T.STRING, ";") == ""
    assert format_value(False, T.BOOL, ";") == "false"


def test_refuses_a_folder_with_files(store: GraphStore, tmp_path: Path) -> None:
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "x").write_text("x")
    with pytest.raises(CallerError):
        export_neo4j_import(store, tmp_path / "e")


def test_the_cli_command(tmp_path: Path) -> None:
    path = tmp_path / "cli.lbug"
    store = open_store(Settings(backend="ladybug", db_path=path), create=True)
    try:
        build_fixture_graph(store)
    finally:
        store.close()
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "prodgraph"), "export", "neo4j-import",
         str(tmp_path / "out"), "--db", str(path)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "import.sh" in proc.stdout
    assert (tmp_path / "out" / "nodes" / "Function.csv").exists()


def test_the_vectorised_columns_match_format_value() -> None:
    """Every column type, with nulls, quotes, newlines, NaN and infinities: the fast path's
    fields equal `format_value`'s (floats equal as numbers: Arrow writes `3`, Python `3.0`)."""
    from graph_service.store.neo4j_import import format_column

    T = schema.PropType
    cases: list[tuple[T, list[Any]]] = [
        (T.STRING, ["a", 'q"uote', "new\nline", "", None, "x,y"]),
        (T.INT, [1, -7, None, 2**62]),
        (T.FLOAT, [0.9, 1e-7, 3.0, float("nan"), float("inf"), float("-inf"), None]),
        (T.BOOL, [True, False, None]),
        (T.TIMESTAMP, [dt.datetime(2024, 1, 2, 3, 4, 5, 123456), dt.datetime(2024, 1, 2), None]),
        (T.STRING_LIST, [["a", "b"], [], None, ['c"d']]),
    ]
    for t, values in cases:
        fast = format_column(pa.array(values, schema.PropType(t).arrow), t, ";").to_pylist()
        slow = [format_value(v, t, ";") for v in values]
        if t is T.FLOAT:
            assert [float(x) if x else None for x in fast] == pytest.approx(
                [float(x) if x else None for x in slow], nan_ok=True
            )
        elif t is T.TIMESTAMP:
            assert [dt.datetime.fromisoformat(x) if x else None for x in fast] == values
            assert all(LOCALDATETIME.match(x) for x in fast if x)
        else:
            assert fast == slow, t
    # a list holding a null element takes the value-by-value path
    odd = format_column(pa.array([["a", None]], pa.list_(pa.string())), T.STRING_LIST, ";")
    assert odd.to_pylist() == ['"a"']
