"""A synthetic engineering history, built as schema batches, for tests and benchmarks.

The generative story: one initial commit adds every file and function; later commits each touch
a few functions (and their files). A change is bug-introducing with a small base rate, more
often when it is large, and much more often when a touched function *calls* the fragile
function `charge` in `billing/payments.py` (or is it). Each bug is fixed by a later commit that
touches the same function (an INDUCED edge with `fixed_at` = the fix's time). Only the graph
(CALLS + the fragile function's bug history) reveals the structural part of the risk.

With `renamed_files = k`, files 1..k were renamed half-way through the history (from
`legacy_<name>`): their functions carry the old path's uid before the renaming commit, as the
git loader records them, while CALLS (from the head) name the new uids.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from graph_service.batch import Batch, edges, nodes

logger = logging.getLogger(__name__)

__all__ = ["FRAGILE_UID", "SyntheticSpec", "fn_uid", "synthetic_batches"]

REPO = "demo"
FRAGILE_UID = f"fn:{REPO}:billing/payments.py:charge"
START = np.datetime64("2020-01-01T00:00:00", "us")
HOUR = np.timedelta64(3600, "s")


@dataclass(frozen=True)
class SyntheticSpec:
    functions: int = 1500
    commits: int = 700
    people: int = 12
    calls_per_function: int = 2
    fragile_callers: float = 0.1
    fragile_touch: float = 0.08
    base_rate: float = 0.03
    renamed_files: int = 0
    seed: int = 0


def fn_path(i: int, n_files: int) -> str:
    return (
        "billing/payments.py" if i % n_files == 0 else f"pkg{(i % n_files) % 8}/mod{i % n_files}.py"
    )


def fn_name(i: int) -> str:
    return "charge" if i == 0 else f"f{i}"


def fn_uid(i: int, n_files: int) -> str:
    return f"fn:{REPO}:{fn_path(i, n_files)}:{fn_name(i)}"


def old_path(path: str) -> str:
    """The path a renamed file had before the renaming commit."""
    head, _, name = path.rpartition("/")
    return f"{head}/legacy_{name}" if head else f"legacy_{name}"


class _Names:
    """Uids of functions and files as of a commit: renamed files had their old path before
    commit `at`."""

    def __init__(self, spec: SyntheticSpec, n_files: int) -> None:
        self.n_files, self.at = n_files, spec.commits // 2
        self.renamed = set(range(1, min(spec.renamed_files, n_files - 1) + 1))
        self.fn = [fn_uid(i, n_files) for i in range(spec.functions)]
        self.file = [f"file:{REPO}:{fn_path(k, n_files)}" for k in range(n_files)]
        self.old_fn = {
            i: f"fn:{REPO}:{old_path(fn_path(i, n_files))}:{fn_name(i)}"
            for i in range(spec.functions)
            if i % n_files in self.renamed
        }

    def fn_at(self, f: int, commit: int) -> str:
        return self.old_fn.get(f, self.fn[f]) if commit < self.at else self.fn[f]

    def file_at(self, k: int, commit: int) -> str:
        if commit < self.at and k in self.renamed:
            return f"file:{REPO}:{old_path(fn_path(k, self.n_files))}"
        return self.file[k]


def _ts(hours: np.ndarray) -> pa.Array:
    return pa.array(START + hours.astype(np.int64) * HOUR, pa.timestamp("us"))


def _plan(
    spec: SyntheticSpec, rng: np.random.Generator, callers_of_fragile: np.ndarray
) -> tuple[list[list[int]], np.ndarray, list[tuple[int, int]]]:
    """Touched functions per commit (commit 0 = initial import), fix flags, (bug, fix) pairs."""
    n = spec.commits
    touched: list[list[int]] = [[]]
    for _ in range(1, n):
        k = int(rng.integers(1, 4))
        picked = set(rng.integers(0, spec.functions, k).tolist())
        if rng.random() < spec.fragile_touch:
            picked.add(0)
        touched.append(sorted(picked))
    is_fix = np.zeros(n, dtype=bool)
    pairs: list[tuple[int, int]] = []
    fragile_set = set(callers_of_fragile.tolist()) | {0}
    for i in range(1, n):
        structural = any(f in fragile_set for f in touched[i])
        p = spec.base_rate + (0.55 if structural else 0.0) + 0.02 * (len(touched[i]) - 1)
        j = i + int(rng.integers(3, 30))
        if rng.random() < p and j < n:
            touched[j] = sorted(set(touched[j]) | {touched[i][0]})
            is_fix[j] = True
            pairs.append((i, j))
    return touched, is_fix, pairs


def synthetic_batches(spec: SyntheticSpec) -> Iterator[Batch]:
    """Yield node batches, then edge batches, of one synthetic repository history."""
    rng = np.random.default_rng(spec.seed)
    nfun = spec.functions
    n_files = max(1, nfun // 10)
    fidx = np.arange(nfun)
    names = _Names(spec, n_files)
    f_uids, file_uids = names.fn, names.file
    gone = sorted(names.renamed)
    yield nodes(
        "File",
        pa.table(
            {
                "uid": file_uids + [names.file_at(k, 0) for k in gone],
                "path": [fn_path(k, n_files) for k in range(n_files)]
                + [old_path(fn_path(k, n_files)) for k in gone],
                "repo": [REPO] * (n_files + len(gone)),
                "deleted": [False] * n_files + [True] * len(gone),
            }
        ),
    )
    old = sorted(names.old_fn)
    loc = rng.integers(3, 80, nfun)
    yield nodes(
        "Function",
        pa.table(
            {
                "uid": f_uids + [names.old_fn[i] for i in old],
                "name": [fn_name(i) for i in range(nfun)] + [fn_name(i) for i in old],
                "qualname": [fn_name(i) for i in range(nfun)] + [fn_name(i) for i in old],
                "path": [fn_path(i, n_files) for i in range(nfun)]
                + [old_path(fn_path(i, n_files)) for i in old],
                "loc": np.concatenate([loc, loc[old]]).astype(np.int64),
                "deleted": [False] * nfun + [True] * len(old),
            }
        ),
    )
    people = [f"person:dev{k}@example.com" for k in range(spec.people)]
    yield nodes("Person", pa.table({"uid": people, "email": [p[7:] for p in people]}))
    n_fragile = max(1, int(spec.fragile_callers * nfun))
    callers_of_fragile = rng.choice(
        np.arange(1, nfun), size=min(n_fragile, nfun - 1), replace=False
    )
    touched, is_fix, pairs = _plan(spec, rng, callers_of_fragile)
    yield from _commit_batches(spec, rng, touched, is_fix, pairs, names, people)
    src = np.repeat(fidx, spec.calls_per_function)
    dst = rng.integers(0, nfun, len(src))
    dst[callers_of_fragile * spec.calls_per_function] = 0  # same out-degree as everyone else
    keep = src != dst
    n_calls = int(keep.sum())
    # every third call line (none to the fragile function) was last written by some commit
    dated = (np.arange(n_calls) % 3 == 0) & (dst[keep] != 0)
    since = _ts(rng.integers(0, spec.commits, n_calls) * 3)
    calls = pa.table(
        {
            "src": pa.array(np.array(f_uids)[src[keep]]),
            "dst": pa.array(np.array(f_uids)[dst[keep]]),
            "since": pa.array(since.to_pylist(), mask=~dated, type=since.type),
            "source": ["static"] * n_calls,
            "confidence": [0.9] * n_calls,
        }
    )
    yield edges("CALLS", "Function", "Function", calls)
    yield edges(
        "DEFINES",
        "File",
        "Function",
        pa.table(
            {
                "src": [file_uids[i % n_files] for i in fidx],
                "dst": f_uids,
                "source": ["static"] * nfun,
                "confidence": [1.0] * nfun,
            }
        ),
    )


def _commit_batches(
    spec: SyntheticSpec,
    rng: np.random.Generator,
    touched: list[list[int]],
    is_fix: np.ndarray,
    pairs: list[tuple[int, int]],
    names: _Names,
    people: list[str],
) -> Iterator[Batch]:
    n, n_files = spec.commits, names.n_files
    hours = np.arange(n) * 3
    c_uids = [f"commit:{i:040x}" for i in range(n)]
    fn_rows: dict[str, list] = {
        "src": [],
        "dst": [],
        "lines_added": [],
        "lines_deleted": [],
        "change": [],
    }
    file_rows: dict[tuple[int, int], list[int]] = {}
    for i, fs in enumerate(touched):
        for f in range(spec.functions) if i == 0 else fs:
            la, ld = (10, 0) if i == 0 else (int(rng.geometric(0.15)), int(rng.geometric(0.3)) - 1)
            fn_rows["src"].append(c_uids[i])
            fn_rows["dst"].append(names.fn_at(f, i))
            fn_rows["lines_added"].append(la)
            fn_rows["lines_deleted"].append(ld)
            fn_rows["change"].append("added" if i == 0 else "modified")
            acc = file_rows.setdefault((i, f % n_files), [0, 0])
            acc[0], acc[1] = acc[0] + la, acc[1] + ld
    for k in sorted(names.renamed):  # the renaming commit touches each renamed file
        file_rows.setdefault((names.at, k), [0, 0])
    la_c, ld_c, nf_c = np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n, np.int64)
    for (i, _), (la, ld) in file_rows.items():
        la_c[i] += la
        ld_c[i] += ld
        nf_c[i] += 1
    authors = rng.zipf(1.6, n) % len(people)
    yield nodes(
        "Commit",
        pa.table(
            {
                "uid": c_uids,
                "sha": [u[7:] for u in c_uids],
                "repo": [REPO] * n,
                "authored_at": _ts(hours),
                "committed_at": _ts(hours),
                "lines_added": la_c,
                "lines_deleted": ld_c,
                "files_changed": nf_c,
                "is_merge": [False] * n,
                "is_fix": is_fix.tolist(),
                "summary": ["fix bug" if x else "change" for x in is_fix],
                "message": [""] * n,
            }
        ),
    )
    yield edges(
        "AUTHORED",
        "Person",
        "Commit",
        pa.table(
            {
                "src": [people[a] for a in authors],
                "dst": c_uids,
                "source": ["git"] * n,
                "confidence": [1.0] * n,
            }
        ),
    )
    m = len(fn_rows["src"])
    yield edges(
        "MODIFIES",
        "Commit",
        "Function",
        pa.table({**fn_rows, "source": ["git"] * m, "confidence": [1.0] * m}),
    )
    keys = list(file_rows)

    def change(i: int, k: int) -> str:
        if i == names.at and k in names.renamed:
            return "renamed"
        return "added" if i == 0 else "modified"

    yield edges(
        "MODIFIES",
        "Commit",
        "File",
        pa.table(
            {
                "src": [c_uids[i] for i, _ in keys],
                "dst": [names.file_at(k, i) for i, k in keys],
                "lines_added": [file_rows[k][0] for k in keys],
                "lines_deleted": [file_rows[k][1] for k in keys],
                "change": [change(i, k) for i, k in keys],
                "old_path": [
                    old_path(fn_path(k, n_files)) if change(i, k) == "renamed" else None
                    for i, k in keys
                ],
                "source": ["git"] * len(keys),
                "confidence": [1.0] * len(keys),
            }
        ),
    )
    yield edges(
        "PARENT",
        "Commit",
        "Commit",
        pa.table(
            {
                "src": c_uids[1:],
                "dst": c_uids[:-1],
                "position": [0] * (n - 1),
                "source": ["git"] * (n - 1),
                "confidence": [1.0] * (n - 1),
            }
        ),
    )
    if pairs:
        bug, fix = zip(*pairs, strict=True)
        yield edges(
            "INDUCED",
            "Commit",
            "Commit",
            pa.table(
                {
                    "src": [c_uids[i] for i in bug],
                    "dst": [c_uids[j] for j in fix],
                    "method": ["szz"] * len(pairs),
                    "fixed_at": _ts(hours[list(fix)]),
                    "source": ["git"] * len(pairs),
                    "confidence": [0.8] * len(pairs),
                }
            ),
        )
