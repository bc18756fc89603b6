"""Benchmark: recall of the code loader's CALLS against calls observed while a real test suite runs.

Usage:
    .venv/bin/python bench/dynamic_calls.py CHECKOUT --package NAME [--python PY]
        [--time-limit S] [--recorded OUT.json] [--baseline REV] [--package-only]
        [--json FIGURES.json] [--show-misses N] [-- PYTEST ARGS]

CHECKOUT is a checkout of a real Python project whose test suite runs under `--python` (a
separate environment that holds the project, installed editable, and its test dependencies;
never this project's environment). `bench/dynamic_calls_hook.py` runs the suite under a
profiler hook in that interpreter and records the distinct (caller, callee) pairs whose both
ends are defined in the package's source folder (`src/NAME` or `NAME`); its docstring says how
code objects are named (nested functions, lambdas and comprehensions, `<module>`, class
bodies, generators). `--recorded` keeps that record in a file and reuses it when it exists.

The same checkout is then loaded by the code loader (no store: the batches as it yields them;
the whole checkout, as `prodgraph ingest` would load it, or the package folder alone with
`--package-only`) and compared:
- recall of observed function -> function pairs, and of module-level / class-body pairs
  (caller `<module>` or `Cls.<body>`) separately; a module's `__getattr__` run by an import
  statement (the import system looking names up) is left out, and counted;
- static edges between package functions never observed: a count, not a precision (a test
  suite runs a part of the code); also the count restricted to callers that ran;
- the static resolution of each hit, and the misses by category with examples.
`--baseline REV` loads the checkout a second time with the loader of git revision REV of this
project (its `loaders/` and `graph_service/` exported to a temporary folder; or REV is a folder
that holds those two) and prints both,
so a resolver change is measured before and after in one run.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
_PROJECT = _HERE.parent

logger = logging.getLogger(__name__)

__all__ = [
    "compare",
    "import_machinery",
    "main",
    "miss_category",
    "package_dir",
    "record",
    "static_edges",
]

Fn = tuple[str, str]  # (path relative to the checkout, qualname)
Pair = tuple[Fn, Fn]
_LAMBDA = re.compile(r"^<lambda\d*>$")


def package_dir(checkout: Path, package: str) -> Path:
    """The package's source folder: `src/NAME` or `NAME` (a folder with `__init__.py`)."""
    for candidate in (checkout / "src" / package, checkout / package):
        if (candidate / "__init__.py").is_file():
            return candidate
    raise SystemExit(f"{checkout}: no src/{package}/__init__.py nor {package}/__init__.py")


def record(
    checkout: Path,
    pkg_dir: Path,
    python: str,
    pytest_args: list[str],
    out: Path,
    time_limit: float = 0.0,
    timeout: float | None = None,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run the checkout's test suite under the hook with `python`; the recorded JSON."""
    cmd = [
        python,
        str(_HERE / "dynamic_calls_hook.py"),
        "--root",
        str(checkout),
        "--package-dir",
        str(pkg_dir),
        "--out",
        str(out),
        "--time-limit",
        str(time_limit),
        "--",
        "-q",
        "-p",
        "no:cacheprovider",
        *pytest_args,
    ]
    done = subprocess.run(
        cmd,
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, **(env or {})},
    )
    if not out.is_file():
        raise SystemExit(f"the hook wrote nothing (exit {done.returncode}):\n{done.stderr[-3000:]}")
    data: dict[str, Any] = json.loads(out.read_text())
    data["pytest_tail"] = done.stdout.strip().splitlines()[-1:] if done.stdout else []
    return data


def _caller_name(qual: str, functions: set[str]) -> str:
    """A static caller named like the hook names it: lambdas go to the enclosing scope."""
    parts = qual.split(".")
    if not parts or not _LAMBDA.match(parts[-1]):
        return qual
    while parts and _LAMBDA.match(parts[-1]):
        parts.pop()
    owner = ".".join(parts)
    if not owner:
        return "<module>"
    return owner if owner in functions else f"{owner}.<body>"


def static_edges(
    checkout: Path, repo: str, load_root: Path
) -> tuple[dict[Pair, str], set[Fn], float]:
    """The loader's CALLS of `load_root` (inside `checkout`): pair -> resolution, the Function
    nodes, and the load's seconds. Paths are made relative to the checkout."""
    from graph_service.batch import EdgeBatch, NodeBatch
    from loaders.base import LoadReport
    from loaders.code.loader import CodeConfig, CodeLoader

    prefix = load_root.resolve().relative_to(checkout.resolve()).as_posix()
    prefix = "" if prefix == "." else prefix + "/"
    head = f"fn:{repo}:"
    cfg = CodeConfig(root=load_root, repo=repo, use_git=False, incremental=False, workers=1)
    started = time.perf_counter()
    raw: list[tuple[str, str, str]] = []
    functions: set[Fn] = set()
    for batch in CodeLoader(cfg).extract(LoadReport("code"), None):
        if isinstance(batch, EdgeBatch) and batch.type == "CALLS":
            cols = batch.table.to_pydict()
            raw.extend(zip(cols["src"], cols["dst"], cols["resolution"], strict=True))
        elif isinstance(batch, NodeBatch) and batch.label == "Function":
            for uid in batch.table.column("uid").to_pylist():
                path, _, qual = uid[len(head) :].partition(":")
                functions.add((prefix + path, qual))
    seconds = time.perf_counter() - started
    quals = {q for _, q in functions}

    def fn(uid: str) -> Fn:
        path, _, qual = uid[len(head) :].partition(":")
        return (prefix + path, qual)

    edges: dict[Pair, str] = {}
    for src, dst, resolution in raw:
        a, b = fn(src), fn(dst)
        if _LAMBDA.match(b[1].rsplit(".", 1)[-1]):
            continue  # the hook skips lambdas as callees
        edges.setdefault(((a[0], _caller_name(a[1], quals)), b), resolution)
    return edges, functions, seconds


def module_level(fn: Fn) -> bool:
    return fn[1] == "<module>" or fn[1].endswith(".<body>")


def import_machinery(pair: Pair, text: str) -> bool:
    """A module's `__getattr__` (PEP 562) run by an import statement: the import system looks
    names up (`__path__`, the imported names) on the module; no call in the code."""
    return pair[1][1] in ("__getattr__", "__dir__") and text.lstrip().startswith(
        ("import ", "from ")
    )


def _line(checkout: Path, path: str, line: int, cache: dict[str, list[str]]) -> str:
    if path not in cache:
        try:
            cache[path] = (checkout / path).read_text(errors="replace").splitlines()
        except OSError:
            cache[path] = []
    lines = cache[path]
    return lines[line - 1] if 0 < line <= len(lines) else ""


def miss_category(pair: Pair, text: str, static_from_caller: set[Fn], functions: set[Fn]) -> str:
    """Why a static graph may miss an observed pair, from the caller's source line and the
    static edges the same caller has."""
    caller, callee = pair
    name = callee[1].rsplit(".", 1)[-1]
    if caller not in functions or callee not in functions:
        return "not a Function node of the static graph"
    if any(q.rsplit(".", 1)[-1] == name for _, q in static_from_caller):
        return "another function of the same name was chosen (dispatch on the runtime type)"
    if name in ("__init__", "__new__", "__post_init__", "__init_subclass__"):
        return "constructor"
    if name.startswith("__") and name.endswith("__"):
        return "implicit protocol method (operator, with, for, len, ...)"
    spelled = re.search(rf"(\bsuper\(\)\.|\b(self|cls)\.|\.)?\b{re.escape(name)}\s*\(", text)
    if spelled is None:
        if re.search(rf"\.{re.escape(name)}\b", text):
            return "attribute read that runs code (property, descriptor)"
        return "not spelled at the call site (callback, decorator wrapper, other name)"
    receiver = spelled.group(1) or ""
    if receiver.startswith("super"):
        return "super() call"
    if receiver in ("self.", "cls."):
        return "self/cls method"
    if receiver == ".":
        return "method or attribute call on a value of unresolved type"
    return "plain name (parameter, local, closure or import)"


def compare(
    checkout: Path,
    observed: dict[Pair, int],
    ran: set[Fn],
    edges: dict[Pair, str],
    functions: set[Fn],
    pkg_prefix: str,
    examples: int = 3,
) -> dict[str, Any]:
    """Figures of one static graph against the observed pairs."""

    def ours(fn: Fn) -> bool:
        return fn[0].startswith(pkg_prefix)

    static = {p: r for p, r in edges.items() if ours(p[0]) and ours(p[1])}
    by_caller: dict[Fn, set[Fn]] = defaultdict(set)
    for a, b in static:
        by_caller[a].add(b)
    out: dict[str, Any] = {}
    cache: dict[str, list[str]] = {}
    machinery = {
        p
        for p, line in observed.items()
        if import_machinery(p, _line(checkout, p[0][0], line, cache))
    }
    out["import_machinery_left_out"] = len(machinery)
    for kind, keep in (("function", False), ("module_level", True)):
        obs = {
            p: line
            for p, line in observed.items()
            if module_level(p[0]) == keep and p not in machinery
        }
        hits = [p for p in obs if p in static]
        misses = [p for p in obs if p not in static]
        cats: dict[str, list[str]] = defaultdict(list)
        for p in sorted(misses):
            text = _line(checkout, p[0][0], obs[p], cache)
            cat = miss_category(p, text, by_caller.get(p[0], set()), functions)
            cats[cat].append(
                f"{p[0][0]}:{obs[p]} {p[0][1]} -> {p[1][0]}:{p[1][1]}  | {text.strip()[:90]}"
            )
        out[kind] = {
            "observed": len(obs),
            "hit": len(hits),
            "recall": round(len(hits) / len(obs), 4) if obs else 1.0,
            "hits_by_resolution": dict(Counter(static[p] for p in hits).most_common()),
            "misses_by_category": {
                c: {"count": len(v), "examples": v[:examples]}
                for c, v in sorted(cats.items(), key=lambda kv: -len(kv[1]))
            },
        }
    observed_set = set(observed)
    never = [p for p in static if p not in observed_set]
    out["static_in_package"] = len(static)
    out["static_never_observed"] = len(never)
    out["static_never_observed_caller_ran"] = sum(1 for a, _ in never if a in ran)
    out["static_never_observed_by_resolution"] = dict(
        Counter(static[p] for p in never if p[0] in ran).most_common()
    )
    return out


def _baseline_edges(
    rev: str, checkout: Path, repo: str, load_root: Path, tmp: Path
) -> dict[str, Any]:
    """Load with the loader of revision `rev` of this project (or of a folder holding its
    `loaders/` and `graph_service/`), in a subprocess."""
    tree = Path(rev)
    if not (tree / "loaders").is_dir():
        tree = tmp / "baseline"
        tree.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(_PROJECT), "archive", rev, "loaders", "graph_service"],
            capture_output=True,
            check=True,
        )
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    out = tmp / "baseline.json"
    subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            str(checkout),
            "--static-only",
            str(out),
            "--code-from",
            str(tree),
            "--repo",
            repo,
            "--load-root",
            str(load_root),
        ],
        check=True,
    )
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def _static_json(edges: dict[Pair, str], functions: set[Fn], seconds: float) -> dict[str, Any]:
    return {
        "edges": [[a[0], a[1], b[0], b[1], r] for (a, b), r in edges.items()],
        "functions": sorted(list(f) for f in functions),
        "seconds": seconds,
    }


def _from_json(data: dict[str, Any]) -> tuple[dict[Pair, str], set[Fn], float]:
    edges = {((a, b), (c, d)): r for a, b, c, d, r in data["edges"]}
    return edges, {(p, q) for p, q in data["functions"]}, float(data["seconds"])


def _print(label: str, fig: dict[str, Any], show: int) -> None:
    for kind in ("function", "module_level"):
        f = fig[kind]
        print(
            f"{label:9} {kind:13} observed {f['observed']:5d}  hit {f['hit']:5d}  "
            f"recall {f['recall']:.3f}"
        )
        print(f"{'':24}hits by resolution: {f['hits_by_resolution']}")
        for cat, v in f["misses_by_category"].items():
            print(f"{'':24}miss {v['count']:4d}  {cat}")
            for ex in v["examples"][:show]:
                print(f"{'':34}{ex}")
    print(
        f"{label:9} static edges in the package {fig['static_in_package']}; never observed "
        f"{fig['static_never_observed']} ({fig['static_never_observed_caller_ran']} from "
        f"callers that ran: {fig['static_never_observed_by_resolution']}); left out: "
        f"{fig['import_machinery_left_out']} module __getattr__ calls made by import statements"
    )


def _args(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    argv = sys.argv[1:] if argv is None else argv
    pytest_args: list[str] = []
    if "--" in argv:
        split = argv.index("--")
        argv, pytest_args = argv[:split], argv[split + 1 :]
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("checkout", type=Path)
    ap.add_argument("--package", help="the package's import name")
    ap.add_argument("--python", default=sys.executable, help="interpreter of the test env")
    ap.add_argument("--time-limit", type=float, default=0.0, help="stop recording after S s")
    ap.add_argument("--recorded", type=Path, help="keep (or reuse) the recorded pairs here")
    ap.add_argument("--baseline", help="also load with this git revision's (or folder's) loader")
    ap.add_argument("--package-only", action="store_true", help="load the package folder only")
    ap.add_argument("--json", type=Path, help="write the figures here")
    ap.add_argument("--show-misses", type=int, default=3, help="examples per miss category")
    ap.add_argument("--repo", help=argparse.SUPPRESS)
    ap.add_argument("--load-root", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--static-only", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--code-from", type=Path, help=argparse.SUPPRESS)
    return ap.parse_args(argv), pytest_args


def main(argv: list[str] | None = None) -> int:
    args, pytest_args = _args(argv)
    logging.basicConfig(level=logging.ERROR)
    sys.path.insert(0, str(args.code_from or _PROJECT))
    checkout = args.checkout.resolve()
    if args.static_only:  # the baseline's subprocess
        found = static_edges(checkout, args.repo, args.load_root)
        args.static_only.write_text(json.dumps(_static_json(*found)))
        return 0
    if not args.package:
        raise SystemExit("--package is required")
    pkg = package_dir(checkout, args.package)
    pkg_prefix = pkg.relative_to(checkout).as_posix() + "/"
    with tempfile.TemporaryDirectory(prefix="dyncalls-") as tmp_name:
        tmp = Path(tmp_name)
        rec_path = args.recorded or tmp / "recorded.json"
        if rec_path.is_file():
            data = json.loads(rec_path.read_text())
        else:
            data = record(checkout, pkg, args.python, pytest_args, rec_path, args.time_limit)
        observed = {((r[0], r[1]), (r[3], r[4])): int(r[5]) for r in data["pairs"]}
        ran = {(p, q) for p, q in data["ran"]}
        print(
            f"recorded: {len(observed)} pairs, {len(ran)} package functions ran, "
            f"{data.get('seconds')} s, pytest exit {data.get('exit')}"
            f"{' (stopped at the time limit)' if data.get('stopped_early') else ''}"
        )
        repo = checkout.name
        load_root = pkg if args.package_only else checkout
        runs: dict[str, tuple[dict[Pair, str], set[Fn], float]] = {}
        if args.baseline:
            runs["baseline"] = _from_json(
                _baseline_edges(args.baseline, checkout, repo, load_root, tmp)
            )
        runs["current"] = static_edges(checkout, repo, load_root)
    figures: dict[str, Any] = {"recorded_pairs": len(observed), "functions_ran": len(ran)}
    for label, (edges, functions, seconds) in runs.items():
        fig = compare(checkout, observed, ran, edges, functions, pkg_prefix, args.show_misses)
        fig["load_seconds"] = round(seconds, 2)
        figures[label] = fig
        _print(label, fig, args.show_misses)
        print(f"{label:9} load {seconds:.2f} s")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
