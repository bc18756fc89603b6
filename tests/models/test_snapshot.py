"""The warm snapshot scores exactly like the store path, and goes stale on every write."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from graph_service.batch import nodes
from graph_service.store import GraphStore
from models.history import History
from models.registry import RiskModel
from models.score import score_commit, score_diff, score_paths
from models.snapshot import SnapshotCache, neighbourhood
from models.synthetic import FRAGILE_UID

DIFF = (
    "--- a/billing/payments.py\n+++ b/billing/payments.py\n"
    "@@ -1,3 +1,4 @@\n context\n-old line\n+new line\n+another\n"
)
OLD_NAME = "fn:demo:pkg1/legacy_mod1.py:f1"  # pkg1/mod1.py before the renaming commit


def _same(a, b) -> None:  # type: ignore[no-untyped-def]
    assert a.score == pytest.approx(b.score, abs=1e-9)
    assert [(n.uid, round(n.score, 9)) for n in a.nodes] == [
        (n.uid, round(n.score, 9)) for n in b.nodes
    ]
    assert [x.text for x in a.explanations] == [x.text for x in b.explanations]
    assert a.features == pytest.approx(b.features)


def test_snapshot_scores_equal_store_scores(
    synth_store: GraphStore,
    trained: RiskModel,
    split: tuple[np.ndarray, np.ndarray, float],
    synth_history: History,
) -> None:
    history = SnapshotCache(synth_store).build_now().history
    for ci in split[1][:6]:
        uid = synth_history.commit_uids[ci]
        _same(
            score_commit(synth_store, trained, uid, history=history),
            score_commit(synth_store, trained, uid),
        )
    _same(
        score_diff(synth_store, trained, DIFF, history=history, at=2e9),
        score_diff(synth_store, trained, DIFF, at=2e9),
    )
    for author in ("dev0@example.com", None, "first-timer@example.com"):
        _same(
            score_paths(
                synth_store,
                trained,
                [FRAGILE_UID, "pkg3/mod3.py"],
                author=author,
                at=2e9,
                history=history,
            ),
            score_paths(synth_store, trained, [FRAGILE_UID, "pkg3/mod3.py"], author=author, at=2e9),
        )


def test_proposed_change_in_the_past_and_base_untouched(
    synth_store: GraphStore, trained: RiskModel, synth_history: History
) -> None:
    history = SnapshotCache(synth_store).build_now().history
    mid = float(np.median(history.t))  # events after the change's time exist: as-of holds
    before = score_commit(synth_store, trained, history.commit_uids[-1], history=history)
    _same(
        score_paths(
            synth_store, trained, [FRAGILE_UID], author="dev1@example.com", at=mid, history=history
        ),
        score_paths(synth_store, trained, [FRAGILE_UID], author="dev1@example.com", at=mid),
    )
    view = history.with_change("commit:proposed", mid, None, {FRAGILE_UID: (1, 0)}, (1, 0, 0))
    assert view is not None and "commit:proposed" in view.commit_ix  # the no-rebuild path
    assert history.with_change("commit:p", mid, None, {"fn:unknown": (1, 0)}, (1, 0, 0)) is None
    assert "commit:proposed" not in history.commit_ix  # the view did not touch the snapshot
    _same(score_commit(synth_store, trained, history.commit_uids[-1], history=history), before)


def _rows(tables) -> tuple[set[str], set[tuple[str, str]]]:  # type: ignore[no-untyped-def]
    """(the commits read as sweeping, every (commit, entity) modification row)."""
    from models.context import COCHANGE_MAX_TOUCHED

    m = tables.modifies
    sizes = m["commit"].value_counts()
    rows = set(zip(m["commit"], m["entity"], strict=True))
    assert len(rows) == len(m)
    return set(sizes.index[sizes > COCHANGE_MAX_TOUCHED]), rows


def test_neighbourhood_slice_equals_store_reads(synth_store: GraphStore) -> None:
    from models.neighbourhood import load_neighbourhood

    history = SnapshotCache(synth_store).build_now().history
    callers = synth_store.query(
        "MATCH (a:Function)-[:CALLS]->(b:Function {uid: $u}) RETURN a.uid AS uid",
        {"u": FRAGILE_UID},
    ).rows()
    # a function under the name it had before its file was renamed, and one renamed since
    fns = [FRAGILE_UID, callers[0]["uid"], "fn:not-in-graph", OLD_NAME, "fn:demo:pkg2/mod2.py:f2"]
    files = ["file:demo:billing/payments.py"]
    args = ([], files, fns, ["person:dev0@example.com"])
    mine, theirs = neighbourhood(history, *args), load_neighbourhood(synth_store, *args)
    assert len(theirs.modifies) > 0
    # a sweeping earlier commit (the first one adds every function) is read only as far as
    # it takes to recognise it: both sides see it as one, and the same rows of every entity
    # whose events count; which of its other rows are read is unspecified
    (sweep_m, rows_m), (sweep_t, rows_t) = _rows(mine), _rows(theirs)
    assert sweep_m == sweep_t and sweep_t
    first = "commit:" + "0" * 40
    assert first in sweep_t
    everything = synth_store.query(
        "MATCH (c:Commit {uid: $u})-[m:MODIFIES]->() RETURN count(*) AS n", {"u": first}
    ).rows()[0]["n"]
    assert sum(c == first for c, _ in rows_t) < everything / 2  # not all of it
    narrow_m = {r for r in rows_m if r[0] not in sweep_m}
    narrow_t = {r for r in rows_t if r[0] not in sweep_t}
    assert narrow_m == narrow_t
    counted = {e for _, e in narrow_t} | set(fns) | set(files)
    assert {r for r in rows_m if r[1] in counted} == {r for r in rows_t if r[1] in counted}
    assert set(mine.commits["uid"]) == set(theirs.commits["uid"])
    assert mine.renames.equals(theirs.renames)
    assert {"file:demo:pkg1/legacy_mod1.py", "file:demo:pkg2/legacy_mod2.py"} <= set(
        theirs.renames["old"]
    )
    assert OLD_NAME in set(theirs.modifies["entity"])
    assert set(zip(mine.calls["src"], mine.calls["dst"], strict=True)) == set(
        zip(theirs.calls["src"], theirs.calls["dst"], strict=True)
    )


def test_snapshot_goes_stale_after_a_write(tmp_path: Path, store_factory) -> None:  # type: ignore[no-untyped-def]
    store = store_factory(tmp_path / "g.lbug")
    try:
        cache = SnapshotCache(store)
        assert cache.current() is None  # nothing built yet: a build starts in the background
        assert cache.wait(60)
        first = cache.current()
        assert first is not None and cache.current() is first  # fresh: reused
        store.write(
            nodes("Person", [{"uid": "person:new@example.com", "email": "new@example.com"}]),
            loaded_by="test",
            run_id="r2",
        )
        assert cache.current() is None  # stale after the write: store path until rebuilt
        assert cache.wait(60)
        assert cache.current() is not first
    finally:
        store.close()


def test_snapshot_max_age(synth_store: GraphStore) -> None:
    cache = SnapshotCache(synth_store, max_age_s=1e-9)
    cache.build_now()
    assert cache.current() is None  # older than max_age_s: rebuild, store path meanwhile
    cache.wait(60)
