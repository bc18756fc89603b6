"""Export correctness: HeteroData indices name the same uids as the graph; tables are complete."""

from __future__ import annotations

import dataclasses

import numpy as np

from graph_service.store import GraphStore
from models.dataset import HETERO_RELS, export_hetero, load_tables
from models.history import History


def test_export_indices_match_uids(synth_store: GraphStore) -> None:
    data = export_hetero(synth_store)
    for src, rel, dst in HETERO_RELS:
        rows = synth_store.query(
            f"MATCH (a:{src})-[:{rel}]->(b:{dst}) RETURN a.uid AS s, b.uid AS d"
        )
        expected = {(r["s"], r["d"]) for r in rows.rows()}
        ei = data[src, rel, dst].edge_index.numpy()
        got = {(data[src].uid[i], data[dst].uid[j]) for i, j in ei.T}
        assert got == expected, (src, rel, dst)
    n_fn = synth_store.query("MATCH (f:Function) RETURN count(*) AS n").rows()[0]["n"]
    assert data["Function"].num_nodes == n_fn == len(set(data["Function"].uid))
    assert data["Function"].x.shape == (n_fn, 2)


def test_export_is_stable_across_reads(synth_store: GraphStore) -> None:
    a, b = export_hetero(synth_store), export_hetero(synth_store)
    for et in a.edge_types:
        assert np.array_equal(a[et].edge_index.numpy(), b[et].edge_index.numpy())


def test_tables_cover_every_event(synth_store: GraphStore, synth_history: History) -> None:
    tables = load_tables(synth_store)
    counts = synth_store.counts()
    assert len(tables.commits) == counts["nodes"]["Commit"] == 600
    assert len(tables.modifies) == counts["edges"]["MODIFIES"]
    assert len(tables.induced) == counts["edges"]["INDUCED"]
    assert np.all(np.diff(tables.commits["t"].to_numpy()) >= 0)
    assert tables.fingerprint() == load_tables(synth_store).fingerprint()
    # the fingerprint names the data, not the order a parallel scan returned it in
    shuffled = dataclasses.replace(
        tables,
        modifies=tables.modifies.sample(frac=1.0, random_state=1),
        induced=tables.induced.sample(frac=1.0, random_state=2),
    )
    assert shuffled.fingerprint() == tables.fingerprint()
    fewer = dataclasses.replace(tables, induced=tables.induced.iloc[1:])
    assert fewer.fingerprint() != tables.fingerprint()
    # labels come from INDUCED only, and only from when they became known
    first_fix = tables.induced["known_at"].min()
    assert synth_history.labels(first_fix - 1).sum() == 0
    assert synth_history.labels().sum() == tables.induced["src"].nunique()
