"""Mapping commits' hunks onto functions, in this process or in a second one.

Parsing every version of every source file is most of a history load's work, and
tree-sitter holds the GIL while it parses. `WorkerMapping` moves that work (the
`FunctionIndex` with its trees and caches) to a child process: the loader sends each commit's
code changes and goes on reading history, SZZ and rows while the child parses; the function
changes come back in order. `LocalMapping` does the same work in this process (small loads,
where starting a process costs more than it saves). Both answer the same three calls.
"""

from __future__ import annotations

import logging
import os
import pickle
import queue
import subprocess
import sys
import threading
import traceback
import zlib
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from graph_service.errors import OperatorError
from loaders.git.functions import FunctionIndex, MappedFile
from loaders.git.gitcli import BlobReader, Git
from loaders.git.log_parser import FileChange
from loaders.git.rows import function_mapper

logger = logging.getLogger(__name__)

__all__ = [
    "FunctionMapping",
    "LocalMapping",
    "ShardedMapping",
    "WorkerMapping",
    "mappable",
    "serve",
]

Done = tuple[str, list[MappedFile]]  # a commit uid and what each submitted file change did
_BATCH = 64  # commits per message to the child
_POLL_S = 0.5


def mappable(change: FileChange, language_for: Any) -> bool:
    """Whether a file change can touch functions: text hunks in a language the parser knows."""
    if change.binary or change.is_submodule or not change.hunks:
        return False
    return any(p and language_for(p) for p in (change.old_path, change.new_path))


class FunctionMapping(ABC):
    """Submit commits' changes; collect their function changes, in submission order."""

    @abstractmethod
    def submit(self, commit: str, changes: list[FileChange]) -> None: ...

    @abstractmethod
    def done(self, wait: bool = False) -> Iterator[Done]:
        """Finished commits; with `wait`, every commit submitted so far."""

    @abstractmethod
    def head_names(self, blobs: dict[str, str]) -> dict[str, set[str]]:
        """path -> qualified names of the functions its `blobs[path]` version defines."""

    @abstractmethod
    def stats(self) -> dict[str, int]: ...

    def close(self) -> None:
        return None


class _Work:
    """The mapping itself, wherever it runs."""

    def __init__(self, read: Any, cache_size: int) -> None:
        self.index = FunctionIndex(read, cache_size)
        self.mapper = function_mapper(self.index)

    def map(self, batch: list[tuple[str, list[FileChange]]]) -> list[Done]:
        return [(uid, [self.mapper(c) for c in changes]) for uid, changes in batch]

    def head_names(self, blobs: dict[str, str]) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for path, blob in blobs.items():
            parsed = self.index.get(path, blob)
            out[path] = parsed.qualnames if parsed is not None else set()
        return out

    def stats(self) -> dict[str, int]:
        i = self.index
        return {
            "blobs_parsed": i.parsed,
            "blobs_patched": i.patched,
            "blobs_reparsed_incrementally": i.incremental,
            "changes_hunks_unmatched": i.unmatched,
            "blobs_reparsed_for_syntax": i.reparsed,
        }


class LocalMapping(FunctionMapping):
    """The mapping in this process, done as each commit is submitted."""

    def __init__(self, read: Any, cache_size: int) -> None:
        self._work = _Work(read, cache_size)
        self._done: list[Done] = []

    def submit(self, commit: str, changes: list[FileChange]) -> None:
        self._done.extend(self._work.map([(commit, changes)]))

    def done(self, wait: bool = False) -> Iterator[Done]:
        out, self._done = self._done, []
        yield from out

    def head_names(self, blobs: dict[str, str]) -> dict[str, set[str]]:
        return self._work.head_names(blobs)

    def stats(self) -> dict[str, int]:
        return self._work.stats()


class WorkerMapping(FunctionMapping):
    """The mapping in a child Python process; pickled messages carry batches of commits.

    Two threads move messages between in-memory queues and the child's pipes, so neither
    side ever blocks the other on a full pipe.
    """

    def __init__(self, repo_path: Path, cache_size: int) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(repo_path), str(cache_size)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        if self._proc.stdin is None or self._proc.stdout is None:
            raise OperatorError("git: no pipes to the function worker")
        self._tasks: queue.Queue[Any] = queue.Queue()
        self._results: queue.Queue[Any] = queue.Queue()
        out, inp = self._proc.stdin, self._proc.stdout
        threading.Thread(target=_pump_out, args=(self._tasks, out), daemon=True).start()
        threading.Thread(target=_pump_in, args=(inp, self._results), daemon=True).start()
        self._batch: list[tuple[str, list[FileChange]]] = []
        self._sent = 0  # map messages not answered yet
        self._ready: deque[Done] = deque()

    def submit(self, commit: str, changes: list[FileChange]) -> None:
        self._batch.append((commit, changes))
        if len(self._batch) >= _BATCH:
            self._send()

    def _send(self) -> None:
        if self._batch:
            self._tasks.put(("map", self._batch))
            self._sent += 1
            self._batch = []

    def done(self, wait: bool = False) -> Iterator[Done]:
        if wait:
            self._send()
        while self._sent:
            reply = self._receive(block=wait)
            if reply is None:
                break
            self._take(reply)
        while self._ready:
            yield self._ready.popleft()

    def head_names(self, blobs: dict[str, str]) -> dict[str, set[str]]:
        self._send()
        self._tasks.put(("head", blobs))
        return self._answer("head")  # type: ignore[no-any-return]

    def stats(self) -> dict[str, int]:
        self._tasks.put(("stats", None))
        return self._answer("stats")  # type: ignore[no-any-return]

    def _answer(self, kind: str) -> Any:
        while True:
            reply = self._receive(block=True)
            if reply is not None and reply[0] == kind:
                return reply[1]
            if reply is not None:
                self._take(reply)

    def _take(self, reply: tuple[str, Any]) -> None:
        if reply[0] != "map":
            raise OperatorError(f"git: unexpected reply {reply[0]!r} from the function worker")
        self._sent -= 1
        self._ready.extend(reply[1])

    def _receive(self, block: bool) -> tuple[str, Any] | None:
        while True:
            try:
                reply = self._results.get(timeout=_POLL_S) if block else self._results.get_nowait()
            except queue.Empty:
                if not block:
                    return None
                if self._proc.poll() is not None:
                    raise OperatorError(
                        f"git: the function worker exited (code {self._proc.returncode})"
                    ) from None
                continue
            if reply[0] == "error":
                raise OperatorError(f"git: the function worker failed: {reply[1]}")
            return reply  # type: ignore[no-any-return]

    def close(self) -> None:
        self._tasks.put(None)
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


class ShardedMapping(FunctionMapping):
    """The mapping spread over several child processes, each owning a share of the paths.

    A file's versions always go to the same child (by a hash of its path), so each child keeps
    its files' previous trees for incremental reparsing. Every file change travels as its own
    item, and the answers are put back together per commit in the original change order, so
    the result is exactly that of one child or of this process."""

    def __init__(self, repo_path: Path, cache_size: int, workers: int) -> None:
        self._shards = [
            WorkerMapping(repo_path, max(16, cache_size // workers)) for _ in range(workers)
        ]
        self._pending: deque[tuple[str, list[int]]] = deque()  # commit, shard of each change
        self._ready: list[deque[Done]] = [deque() for _ in self._shards]

    def _shard(self, path: str | None) -> int:
        return zlib.crc32((path or "").encode()) % len(self._shards)

    def submit(self, commit: str, changes: list[FileChange]) -> None:
        route = [self._shard(c.new_path or c.old_path) for c in changes]
        for k, (shard, change) in enumerate(zip(route, changes, strict=True)):
            self._shards[shard].submit(f"{commit}\x00{k}", [change])
        self._pending.append((commit, route))

    def done(self, wait: bool = False) -> Iterator[Done]:
        for shard, ready in zip(self._shards, self._ready, strict=True):
            ready.extend(shard.done(wait))
        while self._pending:
            commit, route = self._pending[0]
            need = [route.count(i) for i in range(len(self._shards))]
            if any(len(r) < n for r, n in zip(self._ready, need, strict=True)):
                return
            self._pending.popleft()
            out: list[MappedFile] = []
            for k, owner in enumerate(route):
                uid, changes = self._ready[owner].popleft()
                if uid != f"{commit}\x00{k}":
                    raise OperatorError(f"git: function worker answered {uid!r} out of order")
                out.extend(changes)
            yield commit, out

    def head_names(self, blobs: dict[str, str]) -> dict[str, set[str]]:
        parts: list[dict[str, str]] = [{} for _ in self._shards]
        for path, blob in blobs.items():
            parts[self._shard(path)][path] = blob
        out: dict[str, set[str]] = {}
        for shard, part in zip(self._shards, parts, strict=True):
            if part:
                out.update(shard.head_names(part))
        return out

    def stats(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for shard in self._shards:
            for k, v in shard.stats().items():
                total[k] = total.get(k, 0) + v
        return total

    def close(self) -> None:
        for shard in self._shards:
            shard.close()


_CHILD = "import sys; from loaders.git.mapping import serve; serve(sys.argv[1], int(sys.argv[2]))"


def _send(pipe: IO[bytes], message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    pipe.write(len(data).to_bytes(8, "little") + data)
    pipe.flush()


def _recv(pipe: IO[bytes]) -> Any:
    head = pipe.read(8)
    if len(head) < 8:
        raise EOFError
    return pickle.loads(pipe.read(int.from_bytes(head, "little")))


def _pump_out(tasks: queue.Queue[Any], pipe: IO[bytes]) -> None:
    try:
        while (task := tasks.get()) is not None:
            _send(pipe, task)
        pipe.close()
    except OSError:  # the child is gone; the parent sees it exit
        pass


def _pump_in(pipe: IO[bytes], results: queue.Queue[Any]) -> None:
    try:
        while True:
            results.put(_recv(pipe))
    except (EOFError, OSError):
        pass


def serve(repo_path: str, cache_size: int) -> None:
    """The child's loop: answer messages from stdin on stdout until stdin closes."""
    inp = sys.stdin.buffer
    out = os.fdopen(os.dup(1), "wb")  # the replies; stray prints go to stderr instead
    os.dup2(2, 1)
    try:
        with BlobReader(Git(repo_path)) as blobs:
            work = _Work(blobs.read, cache_size)
            while True:
                try:
                    kind, payload = _recv(inp)
                except EOFError:
                    return
                if kind == "map":
                    _send(out, ("map", work.map(payload)))
                elif kind == "head":
                    _send(out, ("head", work.head_names(payload)))
                else:
                    _send(out, ("stats", work.stats()))
    except Exception:  # reported to the parent, which raises it
        _send(out, ("error", traceback.format_exc(limit=5)))
