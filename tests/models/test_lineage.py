"""Functions keep their identity through file renames (the synthetic history renames 8 files)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from models.dataset import renames_frame
from models.history import History

OLD = "fn:demo:pkg1/legacy_mod1.py:f1"  # pkg1/mod1.py's f1 before the renaming commit
NEW = "fn:demo:pkg1/mod1.py:f1"


def test_renamed_files_are_read(synth_history: History) -> None:
    renames = synth_history.tables.renames
    assert len(renames) == 8
    assert ("file:demo:pkg1/legacy_mod1.py", "file:demo:pkg1/mod1.py") in set(
        zip(renames["old"], renames["new"], strict=True)
    )


def test_an_old_name_sees_the_calls_of_the_function_it_became(synth_history: History) -> None:
    h = synth_history
    old, new = h.ent_ix[OLD], h.ent_ix[NEW]
    assert h.lineage(old) == h.lineage(new) == [old, new]  # oldest name first
    t = float(h.born[new])  # the first change after the rename
    before = float(h.ev_t[h.e_ptr[old + 1] - 1]) + 1.0  # after old's last change, before t
    assert before < t
    calls = h.tables.calls
    mine = calls[(calls["src"] == NEW) & (calls["since"] <= before)]
    callees = {h.lin[h.ent_ix[d]] for d in mine["dst"]}
    expected = sum(1 for r in callees if h.lin_born[r] <= before)
    assert expected > 0
    assert h.fan(old, before)[1] == h.fan(new, before)[1] == expected
    callees, callers = h.neighbours(old, before, cap=100)
    for m in callees + callers:  # each neighbour under the name it had then
        assert h.born[m] <= before

    cut = dataclasses.replace(h.tables, renames=renames_frame(pd.DataFrame()))
    alone = History(cut)
    assert alone.fan(alone.ent_ix[OLD], before) == (0, 0)  # without renames: no calls at all
    assert alone.lineage(alone.ent_ix[OLD]) == [alone.ent_ix[OLD]]


def test_a_proposed_change_keeps_lineage_births(synth_history: History) -> None:
    h = synth_history
    new = h.ent_ix[NEW]
    t = float(h.t.max()) + 1.0
    view = h.with_change("commit:proposed", t, None, {NEW: (3.0, 1.0)}, (3.0, 1.0, 1.0))
    assert view is not None
    assert np.array_equal(view.lin, h.lin)
    assert view.fan(new, t) == h.fan(new, t)


def test_a_call_counts_from_when_its_line_was_written(synth_history: History) -> None:
    """CALLS `since` (the commit that last wrote the call line) dates the edge: it counts for
    changes strictly after that commit, not for the commit that wrote it."""
    h = synth_history
    c = h.tables.calls
    checked = 0
    for src, dst, since in c[np.isfinite(c["since"])].itertuples(index=False):
        a, b = h.ent_ix[src], h.ent_ix[dst]
        pair = (c["src"] == src) & (c["dst"] == dst)
        born = max(h.lin_born[h.lin[a]], h.lin_born[h.lin[b]])
        if pair.sum() != 1 or not born < since - 10 or h.lin[a] == h.lin[b]:
            continue
        early, _ = h.neighbours(a, since, cap=1000)  # the writing commit's own time
        late, _ = h.neighbours(a, since + 1, cap=1000)
        assert h.lin[b] not in {h.lin[m] for m in early}
        assert h.lin[b] in {h.lin[m] for m in late}
        assert h.fan(a, since + 1)[1] > h.fan(a, since)[1]
        checked += 1
        if checked == 20:
            break
    assert checked == 20
