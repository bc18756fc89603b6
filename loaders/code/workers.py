"""Parse source files in worker processes; records come back in input order, never trees.

`parse_files` takes `(path, source bytes)` pairs and yields `(path, ParsedFile | None)` in the
same order, so a load builds exactly the graph a single-process load builds. Workers are plain
child interpreters (`python -c`, started fresh: nothing of the parent is re-imported and no
threads are forked) that read pickled chunks of files on stdin and write the chunks' records on
stdout. The parent keeps at most `window` chunks per worker in flight, and while it waits for
the oldest it parses up to `window` later chunks itself; so memory stays bounded however large
the tree, and no core idles while there is work. Small inputs (under `min_parallel_bytes`) are
parsed in-process: starting a worker costs ~0.1 s.

A file a worker fails on (a Python exception, or the worker dying) is parsed again in the
parent, so failures behave exactly as in a single-process load.
"""

from __future__ import annotations

import gc
import itertools
import logging
import os
import pickle
import queue
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loaders.code.parse import ParsedFile, parse_source

logger = logging.getLogger(__name__)

__all__ = ["default_workers", "parse_files"]

Item = tuple[str, bytes]
Result = tuple[str, ParsedFile | None]

_CHUNK_BYTES = 256 * 1024  # source bytes per message to a worker
_CHUNK_FILES = 64
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # the folder holding `loaders/`
_BOOT = "import sys; sys.path.insert(0, {root!r}); from loaders.code.workers import serve; serve()"


def default_workers() -> int:
    """Worker processes when the config does not say: the usable cores, at most 4."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


def parse_files(
    items: Iterable[Item],
    *,
    workers: int,
    min_parallel_bytes: int,
    window: int = 3,
    stats: dict[str, float] | None = None,
) -> Iterator[Result]:
    """Parse each `(path, source)` and yield `(path, record)` in input order.

    `workers` <= 1, or fewer than `min_parallel_bytes` of source in all, parses in-process.
    `stats["parse_workers"]` is set to the processes started (0: parsed in-process),
    `stats["parse_files_in_process"]` to the files parsed here while waiting for them.
    """
    if stats is not None:
        stats.setdefault("parse_workers", 0)
    it = iter(items)
    if workers <= 1 or not sys.executable:
        yield from _in_process(it)
        return
    head: list[Item] = []
    size = 0
    for item in it:
        head.append(item)
        size += len(item[1])
        if size >= min_parallel_bytes:
            break
    else:
        yield from _in_process(head)
        return
    pool = _Pool(workers, window)
    if stats is not None:
        stats["parse_workers"] = max(stats["parse_workers"], workers)
    finished = False
    try:
        yield from pool.run(_chunks(_chain(head, it)))
        finished = True
    finally:
        pool.close(abort=not finished, stats=stats)


def _in_process(items: Iterable[Item]) -> Iterator[Result]:
    for path, data in items:
        yield path, parse_source(path, data)


def _chain(head: list[Item], rest: Iterator[Item]) -> Iterator[Item]:
    yield from head
    head.clear()
    yield from rest


def _chunks(items: Iterator[Item]) -> Iterator[list[Item]]:
    chunk: list[Item] = []
    size = 0
    for item in items:
        chunk.append(item)
        size += len(item[1])
        if size >= _CHUNK_BYTES or len(chunk) >= _CHUNK_FILES:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


class _Worker:
    """One child process, a thread feeding it chunks and a thread draining its results.

    Draining eagerly keeps the worker busy: results it finishes ahead of the chunk the caller
    is waiting for go into `outbox` instead of blocking the worker on a full pipe.
    """

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _BOOT.format(root=_PACKAGE_ROOT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.inbox: queue.SimpleQueue[list[Item] | None] = queue.SimpleQueue()
        self.outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self.submitted = 0  # chunks sent (main thread)
        self.arrived = 0  # results read back (drain thread)
        self.alive = True
        self.threads = [
            threading.Thread(target=self._feed, name="code-parse-feed", daemon=True),
            threading.Thread(target=self._drain, name="code-parse-drain", daemon=True),
        ]
        for t in self.threads:
            t.start()

    def submit(self, chunk: list[Item]) -> None:
        self.submitted += 1
        self.inbox.put(chunk)

    def waiting(self) -> bool:
        """Whether the next result is still being parsed (the worker is alive and busy)."""
        return self.alive and self.outbox.empty()

    def receive(self) -> list[Any] | None:
        """The next chunk's results, or None when the worker has died."""
        blob = self.outbox.get() if self.alive else None
        if blob is None:
            if self.alive:
                logger.warning(
                    "code parser process %s stopped (exit code %s); parsing its files in-process",
                    self.proc.pid,
                    self.proc.poll(),
                )
            self.alive = False
            return None
        return pickle.loads(blob)  # type: ignore[no-any-return]

    def _feed(self) -> None:
        """Write chunks until told to stop; then close the worker's stdin (it exits)."""
        pipe = self.proc.stdin
        assert pipe is not None
        try:
            while (chunk := self.inbox.get()) is not None:
                pickle.dump(chunk, pipe, protocol=pickle.HIGHEST_PROTOCOL)
                pipe.flush()
        except OSError:  # the worker died; the drain thread reports it
            pass
        finally:
            try:
                pipe.close()
            except OSError:
                pass

    def _drain(self) -> None:
        """Read length-prefixed results into `outbox`; None there once the worker is gone."""
        pipe = self.proc.stdout
        assert pipe is not None
        try:
            while len(head := pipe.read(8)) == 8:
                size = int.from_bytes(head, "little")
                blob = pipe.read(size)
                if len(blob) != size:
                    break
                self.outbox.put(blob)
                self.arrived += 1
        except OSError:
            pass
        finally:
            self.outbox.put(None)

    def peak_rss_mb(self) -> float | None:
        """The worker's peak resident memory (Linux; None elsewhere or once it has exited)."""
        try:
            status = Path(f"/proc/{self.proc.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return None

    def stop(self, *, kill: bool) -> None:
        if kill:
            self.proc.kill()
        self.inbox.put(None)
        self.threads[0].join(timeout=5)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.threads[1].join(timeout=5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@dataclass
class _Pool:
    size: int
    window: int
    workers: list[_Worker] = field(default_factory=list)
    parsed_here: int = 0  # files this process parsed while waiting for a worker

    def run(self, chunks: Iterator[list[Item]]) -> Iterator[Result]:
        """Yield every chunk's records in order.

        Chunks go to the least busy worker. While the oldest is still being parsed, this
        process parses the next chunks itself (at most `window` ahead) instead of waiting.
        """
        self.workers = [_Worker() for _ in range(self.size)]
        # (worker, chunk, records parsed here); oldest first, in input order
        pending: deque[tuple[_Worker | None, list[Item], list[Any] | None]] = deque()
        sent = here = 0  # chunks in `pending` that went to workers / were parsed here
        exhausted = False
        while True:
            while not exhausted and sent < self.size * self.window:
                chunk = next(chunks, None)
                if chunk is None:
                    exhausted = True
                    break
                pending.append((self._assign(chunk), chunk, None))
                sent += 1
            if not pending:
                return
            worker, chunk, results = pending[0]
            if worker is not None and not exhausted and here < self.window and worker.waiting():
                chunk = next(chunks, None)
                if chunk is None:
                    exhausted = True
                else:
                    pending.append((None, chunk, [parse_source(p, d) for p, d in chunk]))
                    here += 1
                    self.parsed_here += len(chunk)
                continue
            pending.popleft()
            if results is not None:
                here -= 1
            else:
                sent -= 1
                results = worker.receive() if worker is not None else None
            if results is None:
                yield from _in_process(chunk)
                continue
            for (path, data), parsed in zip(chunk, results, strict=True):
                if isinstance(parsed, _Failure):
                    logger.debug("code parser process failed on %s: %s", path, parsed.error)
                    parsed = parse_source(path, data)  # raises here as it would in-process
                yield path, parsed

    def _assign(self, chunk: list[Item]) -> _Worker | None:
        """The live worker with the fewest chunks unfinished (None: parse in-process)."""
        live = [w for w in self.workers if w.alive and w.proc.poll() is None]
        if not live:
            return None
        worker = min(live, key=lambda w: w.submitted - w.arrived)
        worker.submit(chunk)
        return worker

    def close(self, *, abort: bool, stats: dict[str, float] | None) -> None:
        """Stop the workers: let them finish, or (`abort`, work still in flight) kill them."""
        if stats is not None:
            stats["parse_files_in_process"] = self.parsed_here
        for w in self.workers:
            peak = w.peak_rss_mb()
            if stats is not None and peak is not None:
                key = "parse_worker_peak_rss_mb"
                stats[key] = max(stats.get(key, 0.0), round(peak, 1))
            w.stop(kill=abort)
        self.workers.clear()


@dataclass(frozen=True)
class _Failure:
    """A file the worker could not parse: the parent parses it again to raise the real error."""

    error: str


def serve() -> None:
    """Worker main loop: chunks of (path, source) on stdin, lists of records on stdout."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed by accident goes to stderr, not into the protocol
    gc.disable()  # records are acyclic; a chunk's garbage is freed by reference counting
    stdin = sys.stdin.buffer
    for served in itertools.count(1):
        try:
            chunk: list[Item] = pickle.load(stdin)
        except EOFError:
            return
        if served % 64 == 0:
            gc.collect()
        results: list[ParsedFile | _Failure | None] = []
        for path, data in chunk:
            try:
                results.append(parse_source(path, data))
            except Exception as e:  # reported back; the parent parses again to raise it
                results.append(_Failure(f"{type(e).__name__}: {e}"))
        blob = pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL)
        out.write(len(blob).to_bytes(8, "little"))
        out.write(blob)
        out.flush()
