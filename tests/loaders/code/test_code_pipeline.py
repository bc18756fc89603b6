"""How a code load paces the cyclic GC: it leaves the process's GC as it found it."""

from __future__ import annotations

import gc
from pathlib import Path

from loaders.base import LoadReport
from loaders.code.loader import CodeConfig, CodeLoader


def _extract(root: Path) -> int:
    (root / "m.py").write_text("def f():\n    return g()\n\n\ndef g():\n    return 1\n")
    cfg = CodeConfig(root=root, repo="r", use_git=False, workers=1)
    return len(list(CodeLoader(cfg).extract(LoadReport("code"))))


def test_a_load_unfreezes_only_what_it_froze(tmp_path: Path) -> None:
    gc.unfreeze()
    assert gc.isenabled()
    assert _extract(tmp_path) > 0
    assert gc.get_freeze_count() == 0 and gc.isenabled()  # nothing left frozen, GC back on
    kept = [[i] for i in range(1000)]  # a warm snapshot, frozen by its owner (triage)
    gc.freeze()
    before = gc.get_freeze_count()
    try:
        (tmp_path / "again").mkdir()
        assert _extract(tmp_path / "again") > 0
        # the owner's objects stay out of full collections after a load in the same process
        assert gc.get_freeze_count() >= before and gc.isenabled()
    finally:
        gc.unfreeze()
    assert kept
