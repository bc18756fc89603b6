"""Neo4j's own Cypher linter passes the whole library and catches typos and dialect slips."""

from __future__ import annotations

import pytest

from graph_service.queries import (
    LINT_DIR,
    LintReport,
    NamedQuery,
    lint_queries,
    load_library,
    parse_query,
)

pytestmark = pytest.mark.skipif(
    not (LINT_DIR / "node_modules").is_dir(),
    reason=f"Neo4j's Cypher linter is not installed: run `npm ci --prefix {LINT_DIR}`",
)

BAD = {
    "misspelled_label": "MATCH (f:Functon {uid: $uid}) RETURN f.uid AS uid",
    "misspelled_rel_type": "MATCH (f:Function {uid: $uid})<-[:CALL]-(g) RETURN g.uid AS uid",
    "misspelled_property": "MATCH (f:Function {uid: $uid}) RETURN f.qualnam AS q",
    "undefined_variable": "MATCH (f:Function {uid: $uid}) RETURN g.uid AS uid",
    "ladybug_function": "MATCH (f:Function {uid: $uid})-[r]->() RETURN label(r) AS t",
    "syntax_error": "MATCH (f:Function {uid: $uid}) RETURN f.uid AS uid ORDER",
}
GOOD = "MATCH (f:Function {uid: $uid}) RETURN f.uid AS uid, type(r) AS t"


def _query(name: str, text: str) -> NamedQuery:
    source = f"// name: {name}\n// description: test\n// param: uid STRING uid\n{text}\n"
    return parse_query(source, file_name=f"{name}.cypher")


@pytest.fixture(scope="module")
def report() -> LintReport:
    """One linter run (Node start-up and analysis are slow): the library plus the bad queries."""
    queries = list(load_library().values())
    queries += [_query(name, text) for name, text in BAD.items()]
    queries.append(_query("good_but_unbound", GOOD))
    queries.append(_query("good", GOOD.replace(", type(r) AS t", "")))
    return lint_queries(queries)


def test_whole_library_lints_clean(report: LintReport) -> None:
    library = load_library()
    assert {n: m for n, m in report.failures().items() if n in library} == {}
    assert sorted(r["name"] for r in report.results if r["name"] in library) == sorted(library)


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_query_fails(name: str, report: LintReport) -> None:
    assert not report.ok
    assert name in report.failures(), report.format()


def test_findings_name_the_problem(report: LintReport) -> None:
    failures = report.failures()
    assert any("Functon" in m for m in failures["misspelled_label"])
    assert any("CALL" in m for m in failures["misspelled_rel_type"])
    assert any("`g`" in m for m in failures["undefined_variable"])
    assert any("label" in m for m in failures["ladybug_function"])
    assert "good_but_unbound" in failures  # `r` is not defined
    assert "good" not in failures
