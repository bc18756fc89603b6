"""The named-query loader: header parsing, parameter binding, running, the schema catalog."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from graph_service import schema
from graph_service.errors import CallerError, NotFoundError, ReadOnlyViolation
from graph_service.queries import (
    PARAM_TYPES,
    NamedQuery,
    QueryLibraryError,
    load_library,
    main,
    params_used,
    parse_query,
    run_named,
    schema_catalog,
)
from graph_service.settings import Settings
from graph_service.store import open_store
from tests.fixtures.graph import FUNCS, build_fixture_graph

HEADER = """// name: sample
// description: A sample query
//   that continues on a second line.
// param: uid STRING Function uid
// param: hops INT Depth (default 2)
// param: since DATETIME Start
// param: uids LIST<STRING> Many uids
// param: ratio FLOAT A ratio
// param: flag BOOL A flag
// default: hops 2
// default: ratio 0.5
// default: flag false
"""
BODY = (
    "MATCH (f:Function {uid: $uid}) WHERE $hops > 0 AND f.uid IN $uids AND $ratio < 1 "
    "AND $flag = false AND $since IS NOT NULL RETURN f.uid AS uid // not a $param\n"
)


def _sample() -> NamedQuery:
    return parse_query(HEADER + BODY, file_name="sample.cypher")


def test_header_is_parsed() -> None:
    q = _sample()
    assert q.name == "sample"
    assert q.description == "A sample query that continues on a second line."
    assert [(p.name, p.type, p.required) for p in q.params] == [
        ("uid", "STRING", True),
        ("hops", "INT", False),
        ("since", "DATETIME", True),
        ("uids", "LIST<STRING>", True),
        ("ratio", "FLOAT", False),
        ("flag", "BOOL", False),
    ]
    assert q.param("hops") is not None and q.param("hops").default == 2  # type: ignore[union-attr]
    assert q.neo4j_text.startswith("MATCH") and q.text("ladybug") == q.neo4j_text


def test_bind_converts_cli_strings() -> None:
    bound = _sample().bind(
        {
            "uid": "fn:x",
            "since": "2024-03-01T10:00:00+02:00",
            "uids": " a, b ,,c",
            "flag": "yes",
            "hops": "3",
        }
    )
    assert bound == {
        "uid": "fn:x",
        "hops": 3,
        "since": datetime(2024, 3, 1, 8, 0),
        "uids": ["a", "b", "c"],
        "ratio": 0.5,
        "flag": True,
    }


def test_bind_accepts_json_values_and_z_times() -> None:
    bound = _sample().bind(
        {"uid": "fn:x", "since": "2024-03-01T10:00:00Z", "uids": ["a"], "ratio": 2, "hops": 1}
    )
    assert bound["since"] == datetime(2024, 3, 1, 10, 0)
    assert bound["ratio"] == 2.0 and bound["hops"] == 1 and bound["uids"] == ["a"]
    assert _sample().bind({"uid": 123, "since": "2024-01-01", "uids": "a"})["uid"] == "123"


@pytest.mark.parametrize(
    ("raw", "param"),
    [
        ({"since": "2024-01-01", "uids": "a"}, "uid"),  # missing
        ({"uid": "x", "since": "2024-01-01", "uids": "a", "hops": "two"}, "hops"),
        ({"uid": "x", "since": "yesterday", "uids": "a"}, "since"),
        ({"uid": "x", "since": "2024-01-01", "uids": "a", "flag": "maybe"}, "flag"),
        ({"uid": "x", "since": "2024-01-01", "uids": "a", "ratio": "lots"}, "ratio"),
        ({"uid": "x", "since": "2024-01-01", "uids": [1, 2]}, "uids"),
        ({"uid": ["x"], "since": "2024-01-01", "uids": "a"}, "uid"),
        ({"uid": "x", "since": "2024-01-01", "uids": "a", "hops": True}, "hops"),
        ({"uid": "x", "since": "2024-01-01", "uids": "a", "depth": "1"}, "depth"),  # unknown
    ],
)
def test_bind_errors_name_the_parameter(raw: dict[str, object], param: str) -> None:
    with pytest.raises(CallerError) as e:
        _sample().bind(raw)
    assert repr(param) in str(e.value)
    assert e.value.detail == {"query": "sample", "param": param}
    assert e.value.status_code == 400


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        (BODY, "name"),
        ("// name: sample\n" + BODY, "description"),
        ("// name: other\n// description: d\n" + BODY, "differs from the file name"),
        (HEADER.replace("// param: flag BOOL A flag\n", "") + BODY, "undeclared parameter"),
        (HEADER + BODY.replace("$flag = false AND ", ""), "'flag' is not used"),
        (HEADER.replace("INT Depth", "INTEGER Depth") + BODY, "malformed param"),
        (HEADER + "// default: nope 1\n" + BODY, "undeclared parameter 'nope'"),
        (HEADER.replace("default: hops 2", "default: hops two") + BODY, "'hops'"),
        (HEADER, "no query text"),
    ],
)
def test_malformed_files_are_refused(source: str, problem: str) -> None:
    with pytest.raises(QueryLibraryError, match=problem):
        parse_query(source, file_name="sample.cypher")


def test_ladybug_variant_is_checked_too() -> None:
    q = parse_query(
        HEADER + BODY,
        file_name="sample.cypher",
        ladybug_source="// Ladybug: why\n" + BODY.replace("f.uid IN", "f.uid IN"),
    )
    assert q.text("ladybug") != q.text("neo4j") or q.ladybug_text is not None
    with pytest.raises(QueryLibraryError, match=r"undeclared parameter \$other"):
        parse_query(
            HEADER + BODY,
            file_name="sample.cypher",
            ladybug_source=BODY.replace("$hops > 0", "$other > 0 AND $hops > 0"),
        )
    with pytest.raises(QueryLibraryError, match="header differs"):
        parse_query(
            HEADER + BODY,
            file_name="sample.cypher",
            ladybug_source="// name: sample\n// description: x\n" + BODY,
        )
    with pytest.raises(CallerError):
        q.text("postgres")


def test_params_used_skips_strings_and_comments() -> None:
    text = "MATCH (n) WHERE n.a = '$no' AND n.b = $yes /* $no */ RETURN n // $no\n"
    assert params_used(text) == {"yes"}


def test_every_library_file_has_a_header_and_declares_exactly_its_params() -> None:
    library = load_library()
    root = Path(__file__).resolve().parents[2] / "cypher"
    files = sorted(p.name for p in root.glob("*.cypher") if not p.name.endswith(".ladybug.cypher"))
    assert sorted(q + ".cypher" for q in library) == files
    for q in library.values():
        declared = {p.name for p in q.params}
        assert params_used(q.neo4j_text) == declared, q.name
        assert params_used(q.text("ladybug")) == declared, q.name
        assert q.description and all(p.type in PARAM_TYPES for p in q.params)
        first = (root / f"{q.name}.cypher").read_text().splitlines()[0]
        assert first == f"// name: {q.name}"


def test_schema_catalog_matches_schema() -> None:
    cat = schema_catalog()
    assert cat["labels"] == [n.label for n in schema.NODES]
    assert cat["relationshipTypes"] == [r.type for r in schema.RELS]
    assert {"uid", "qualname", "lines_added", "confidence", "loaded_by"} <= set(cat["propertyKeys"])
    assert cat["relationships"]["MODIFIES"]["pairs"] == [["Commit", "File"], ["Commit", "Function"]]
    json.dumps(cat)


def test_run_named_on_ladybug(tmp_path: Path) -> None:
    store = open_store(Settings(db_path=tmp_path / "g.lbug"), create=True)
    try:
        build_fixture_graph(store)
        result = run_named(store, "callees", {"uid": FUNCS["charge"]}, row_cap=1)
        assert result.truncated and result.rows() == [
            {"uid": FUNCS["query"], "qualname": "query", "path": "app/db.py", "depth": 1}
        ]
        with pytest.raises(NotFoundError, match="no named query 'nope'"):
            run_named(store, "nope", {})
        with pytest.raises(CallerError, match="'uid'"):
            run_named(store, "callees", {})
        bad = parse_query(
            "// name: bad\n// description: d\nMATCH (n) DETACH DELETE n\n", file_name="bad.cypher"
        )
        with pytest.raises(ReadOnlyViolation):
            run_named(store, "bad", {}, library={"bad": bad})
    finally:
        store.close()


def test_list_command_prints_the_library(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    listed = json.loads(capsys.readouterr().out)
    callers = next(q for q in listed if q["name"] == "callers")
    assert callers["params"][1] == {
        "name": "hops",
        "type": "INT",
        "required": False,
        "default": 1,
        "description": callers["params"][1]["description"],
    }
