"""Records the in-package calls a pytest run makes: a profiler hook, run as its own script.

Usage (with the Python of the project under test, not the project's):
    python dynamic_calls_hook.py --root CHECKOUT --package-dir DIR --out OUT.json
        [--time-limit S] -- [pytest arguments]

No conftest and no plugin: the script installs `sys.setprofile` (and `threading.setprofile`)
before it calls `pytest.main`, so module-level code run at import time is seen too. It depends
on the standard library and pytest only, so it runs in any environment that has the project's
test dependencies.

A pair is recorded when a Python frame whose code is defined under DIR starts and the frame
that called it (its `f_back`, so C functions in between such as `map`, `type.__call__` or a
property descriptor are transparent) is also defined under DIR. Code objects are named the
way the code loader names functions (`path:qualname`, the path relative to CHECKOUT):
- `A.f.<locals>.g` -> `A.f.g` (nested functions and classes);
- module code -> `<module>`, a class body -> `A.<body>` (callers only: the frames that run a
  module or class body are started by the import system, not by a call);
- lambdas, comprehensions and generator expressions are not functions of the graph: as
  callers they are attributed to the enclosing named function (or module / class body), as
  callees they are skipped;
- generators and coroutines: a frame starts again at every resume, so only the first start is
  recorded, with the frame that started it (usually the one that created it).
Each pair keeps the caller's line at its first observation.
"""

from __future__ import annotations

import argparse
import dis
import inspect
import json
import os
import sys
import threading
import time
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

__all__ = ["CallRecorder", "main", "name_of"]

_INNER = ("<lambda>", "<listcomp>", "<genexpr>", "<dictcomp>", "<setcomp>")
_RESUMABLE = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR
_FUNCTION = inspect.CO_NEWLOCALS | inspect.CO_OPTIMIZED
_UNSEEN = object()

# (path, qualname, kind, first-start offset); kind: "fn", "inner", "module", "body"
CodeName = tuple[str, str, str, int]


def name_of(code: CodeType, path: str) -> CodeName:
    """The code loader's name for a code object defined in `path`, and what kind it is."""
    qual = getattr(code, "co_qualname", code.co_name)
    if qual == "<module>":
        return (path, "<module>", "module", -1)
    parts = [p for p in qual.split(".") if p != "<locals>"]
    if parts and parts[-1] in _INNER:
        while parts and parts[-1] in _INNER:
            parts.pop()
        return (path, ".".join(parts) or "<module>", "inner", -1)
    if not code.co_flags & _FUNCTION:
        return (path, ".".join(parts) + ".<body>", "body", -1)
    start = -1
    if code.co_flags & _RESUMABLE:
        start = next((i.offset for i in dis.get_instructions(code) if i.opname == "RESUME"), -1)
    return (path, ".".join(parts), "fn", start)


class CallRecorder:
    """The profiler hook and what it saw (pairs and the package functions that ran)."""

    def __init__(self, root: Path, package_dir: Path) -> None:
        self.root = str(root.resolve())
        self.package = str(package_dir.resolve()) + os.sep
        self.names: dict[CodeType, CodeName | None] = {}
        self.pairs: dict[tuple[CodeName, CodeName], int] = {}
        self.ran: set[CodeName] = set()

    def _name(self, code: CodeType) -> CodeName | None:
        filename = os.path.realpath(code.co_filename)
        if not filename.startswith(self.package) or not filename.endswith(".py"):
            return None
        return name_of(code, os.path.relpath(filename, self.root).replace(os.sep, "/"))

    def hook(self, frame: FrameType, event: str, arg: Any) -> None:
        if event != "call":
            return
        code = frame.f_code
        callee = self.names.get(code, _UNSEEN)
        if callee is _UNSEEN:
            callee = self.names[code] = self._name(code)
        if callee is None or callee[2] != "fn":  # type: ignore[index]
            return
        if callee[3] >= 0 and frame.f_lasti != callee[3]:  # type: ignore[index]
            return  # a generator resumed, not started
        back = frame.f_back
        if back is None:
            return
        bcode = back.f_code
        caller = self.names.get(bcode, _UNSEEN)
        if caller is _UNSEEN:
            caller = self.names[bcode] = self._name(bcode)
        self.ran.add(callee)  # type: ignore[arg-type]
        if caller is not None:
            key = (caller, callee)
            if key not in self.pairs:
                self.pairs[key] = back.f_lineno  # type: ignore[index]

    def start(self) -> None:
        threading.setprofile(self.hook)
        sys.setprofile(self.hook)

    def stop(self) -> None:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]

    def snapshot(self) -> dict[str, Any]:
        """What was recorded, as JSON-ready lists (safe while other threads still record)."""
        for _ in range(100):
            try:
                pairs = list(self.pairs.items())
                ran = list(self.ran)
                break
            except RuntimeError:  # changed size during iteration
                continue
        else:
            pairs, ran = [], []
        return {
            "pairs": [[a[0], a[1], a[2], b[0], b[1], line] for (a, b), line in sorted(pairs)],
            "ran": sorted([r[0], r[1]] for r in ran),
        }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ours, pytest_args = argv, []
    if "--" in argv:
        split = argv.index("--")
        ours, pytest_args = argv[:split], argv[split + 1 :]
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", type=Path, required=True)
    ap.add_argument("--package-dir", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--time-limit", type=float, default=0.0, help="seconds; 0: none")
    args = ap.parse_args(ours)
    import pytest  # the project's own pytest

    recorder = CallRecorder(args.root, args.package_dir)
    started = time.perf_counter()

    def write(status: object, stopped_early: bool) -> None:
        data = recorder.snapshot()
        data.update(
            exit=str(status),
            seconds=round(time.perf_counter() - started, 2),
            stopped_early=stopped_early,
        )
        args.out.write_text(json.dumps(data))

    if args.time_limit > 0:

        def out_of_time() -> None:
            write("time limit", True)
            os._exit(0)

        timer = threading.Timer(args.time_limit, out_of_time)
        timer.daemon = True
        timer.start()
    recorder.start()
    try:
        status = pytest.main(pytest_args)
    finally:
        recorder.stop()
    write(status, False)
    return 0


if __name__ == "__main__":
    # Run as a script: its own folder (bench/, whose file names shadow standard modules such
    # as `code`) must not be importable by the suite under test.
    if sys.path and os.path.realpath(sys.path[0]) == os.path.dirname(os.path.realpath(__file__)):
        sys.path.pop(0)
    raise SystemExit(main())
