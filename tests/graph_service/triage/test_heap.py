"""The warm triage snapshot leaves the cyclic collector's view once built, and only then."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from datetime import timedelta

import pytest

from graph_service.batch import nodes
from graph_service.store import GraphStore
from graph_service.triage import TicketInput, TriageConfig, heap, triage
from graph_service.triage.code_index import _STAMPS, code_index
from tests.graph_service.triage.conftest import REPO, T0, _ticket
from tests.graph_service.triage.test_frames import PYTHON

TICKET = TicketInput(title="Crash parsing quantity", body=PYTHON, created=T0)


@pytest.fixture(autouse=True)
def thawed() -> Iterator[None]:
    """Each test starts and ends with nothing frozen and nothing pending."""
    gc.unfreeze()
    heap.settle()
    gc.unfreeze()
    yield
    gc.unfreeze()


def _tracked(obj: object) -> bool:
    """Whether the collector's generations (not the permanent one) hold `obj`."""
    return any(o is obj for o in gc.get_objects())


def test_large_snapshot_is_frozen_after_the_triage_that_built_it(
    code_store: GraphStore, config: TriageConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(heap, "FREEZE_MIN_ROWS", 1)
    triage(code_store, TICKET, None, config)
    frozen = gc.get_freeze_count()
    assert frozen > 0
    idx = code_index(code_store)
    assert not _tracked(idx.fn_uid)  # the index's lists are in the permanent generation
    triage(code_store, TICKET, None, config)  # nothing rebuilt: no second collection
    assert gc.get_freeze_count() == frozen


def test_small_snapshot_is_left_to_the_collector(
    code_store: GraphStore, config: TriageConfig
) -> None:
    assert len(code_index(code_store).fn_uid) < heap.FREEZE_MIN_ROWS
    triage(code_store, TICKET, None, config)
    assert gc.get_freeze_count() == 0
    assert _tracked(code_index(code_store).fn_uid)


def test_a_rebuilt_snapshot_replaces_the_frozen_one(
    code_store: GraphStore, config: TriageConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(heap, "FREEZE_MIN_ROWS", 1)
    first = triage(code_store, TICKET, None, config)
    old = weakref.ref(code_index(code_store))
    code_store.write(
        nodes("File", [{"uid": f"file:{REPO}:shop/new.py", "path": "shop/new.py", "repo": REPO}]),
        loaded_by="test",
        run_id="r2",
    )
    _STAMPS.clear()  # read the stamp now, not after its 2 s time-to-live
    again = triage(code_store, TICKET, None, config)
    assert old() is None  # the earlier index was freed, frozen or not
    idx = code_index(code_store)
    assert f"file:{REPO}:shop/new.py" in idx.file_uid
    assert not _tracked(idx.fn_uid)
    assert [s.uid for s in again.functions] == [s.uid for s in first.functions]


def test_similar_alone_freezes_the_ticket_index_it_built(
    code_store: GraphStore, config: TriageConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    from graph_service.triage import similar
    from graph_service.triage.similar import ticket_index

    monkeypatch.setattr(heap, "FREEZE_MIN_ROWS", 1)
    past = _ticket("ticket:github:3", "Crash parsing qty", "bad qty", T0 - timedelta(days=3))
    code_store.write(nodes("Ticket", [past]), loaded_by="test", run_id="r3")
    assert similar(code_store, TICKET, 5, config)
    assert gc.get_freeze_count() > 0
    assert not _tracked(ticket_index(code_store, config).uid)
