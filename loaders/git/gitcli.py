"""Driving the `git` command line: one-shot commands, a streaming log and a blob reader."""

from __future__ import annotations

import logging
import queue
import re
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

from graph_service.errors import CallerError, OperatorError

logger = logging.getLogger(__name__)

__all__ = ["BlobReader", "Git", "GitError"]

_CHUNK = 1 << 20
_QUEUED_CHUNKS = 64  # at most this many chunks (<= 64 MiB) wait for the parser
_LINE = re.compile(rb"[^\n]*\n")
# Fixed options for every call: no pager, no colour, paths unquoted as UTF-8 bytes.
_BASE = ("git", "-c", "core.quotepath=false", "-c", "color.ui=never", "--no-pager")


class GitError(OperatorError):
    """A git command failed; the message carries git's own words."""

    code = "git_failed"


class Git:
    """A repository on disk, reached through the `git` executable."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise CallerError(f"git: no such directory {self.path}")

    def argv(self, *args: str) -> list[str]:
        return [*_BASE, "-C", str(self.path), *args]

    def run(self, *args: str, input_: bytes | None = None, check: bool = True) -> bytes:
        """Run one git command to completion and return its stdout."""
        try:
            proc = subprocess.run(self.argv(*args), input=input_, capture_output=True, check=False)
        except FileNotFoundError as e:
            raise OperatorError("git: the `git` executable is not installed") from e
        if check and proc.returncode != 0:
            err = proc.stderr.decode("utf-8", "replace").strip()
            raise GitError(f"git {args[0]} failed in {self.path}: {err}", {"args": list(args)})
        return proc.stdout

    def text(self, *args: str, check: bool = True) -> str:
        return self.run(*args, check=check).decode("utf-8", "replace").strip()

    def toplevel(self) -> Path:
        """The work tree root, or the git directory itself for a bare repository."""
        if self.text("rev-parse", "--is-bare-repository") == "true":
            return Path(self.text("rev-parse", "--absolute-git-dir"))
        return Path(self.text("rev-parse", "--show-toplevel"))

    def resolve(self, rev: str) -> str | None:
        """Full sha of `rev` as a commit, or None when it does not name one."""
        out = self.run("rev-parse", "--verify", "-q", f"{rev}^{{commit}}", check=False)
        sha = out.decode().strip()
        return sha or None

    def is_shallow(self) -> bool:
        return self.text("rev-parse", "--is-shallow-repository") == "true"

    def rev_list(self, *revs: str) -> list[str]:
        """Commits reachable from `revs`, newest first in topological order."""
        out = self.run("rev-list", "--topo-order", *revs, "--")
        return out.decode().split()

    def merges(self, rev: str) -> set[str]:
        return set(self.run("rev-list", "--merges", rev, "--").decode().split())

    def ls_tree(self, rev: str) -> dict[str, tuple[str, str]]:
        """path -> (mode, object sha) of every entry of the tree at `rev`."""
        out = self.run("ls-tree", "-r", "-z", "--full-tree", rev)
        entries: dict[str, tuple[str, str]] = {}
        for item in out.split(b"\0"):
            if not item:
                continue
            meta, _, path = item.partition(b"\t")
            mode, _type, sha = meta.decode().split(" ")
            entries[path.decode("utf-8", "surrogateescape")] = (mode, sha)
        return entries

    def config(self, key: str) -> str | None:
        return self.text("config", "--get", key, check=False) or None

    def stream(self, args: Sequence[str], stdin_lines: Sequence[str] = ()) -> Iterator[bytes]:
        """Yield stdout lines of a long git command, feeding `stdin_lines` to it first.

        A thread drains git's output into a bounded queue, so git keeps producing while the
        caller is busy with earlier lines.
        """
        with tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(
                self.argv(*args),
                stdin=subprocess.PIPE if stdin_lines else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=err,
            )
            if stdin_lines:
                _feed(proc.stdin, stdin_lines)
            pump = _Pump(proc.stdout)
            finished = False
            try:
                yield from pump.lines()
                finished = True
            finally:
                if not finished:
                    proc.kill()
                pump.stop()
                code = proc.wait()
            if code != 0 and finished:
                err.seek(0)
                msg = err.read().decode("utf-8", "replace").strip()
                raise GitError(f"git {args[0]} failed in {self.path}: {msg}", {"args": list(args)})


class _Pump:
    """Reads a pipe on a thread into a bounded queue of chunks; `lines()` splits them."""

    def __init__(self, pipe: IO[bytes] | None) -> None:
        if pipe is None:
            raise GitError("git: no output pipe")
        self._pipe = pipe
        self._chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=_QUEUED_CHUNKS)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        read = getattr(self._pipe, "read1", self._pipe.read)
        try:
            while not self._stopped.is_set():
                data = read(_CHUNK)
                if not data:
                    break
                self._put(data)
        finally:
            self._put(None)

    def _put(self, item: bytes | None) -> None:
        while not self._stopped.is_set():
            try:
                self._chunks.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def lines(self) -> Iterator[bytes]:
        tail = b""
        while (data := self._chunks.get()) is not None:
            data = tail + data
            cut = data.rfind(b"\n") + 1
            tail = data[cut:]
            yield from _LINE.findall(data, 0, cut)
        if tail:
            yield tail

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()
        self._pipe.close()


def _feed(stdin: IO[bytes] | None, lines: Sequence[str]) -> None:
    """Write stdin on a thread, so a large input never deadlocks against stdout."""
    if stdin is None:
        raise GitError("git: no input pipe")

    def write() -> None:
        try:
            stdin.write("".join(f"{line}\n" for line in lines).encode())
            stdin.close()
        except OSError:  # git exited early; its exit status reports why
            pass

    threading.Thread(target=write, daemon=True).start()


class BlobReader:
    """Object contents by sha through one long-running `git cat-file --batch`."""

    def __init__(self, git: Git) -> None:
        self._proc = subprocess.Popen(
            git.argv("cat-file", "--batch"),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        if self._proc.stdin is None or self._proc.stdout is None:
            raise GitError("git cat-file: no pipes")
        self._stdin, self._stdout = self._proc.stdin, self._proc.stdout

    def read(self, spec: str) -> bytes | None:
        """Content of the object `spec` (a sha or `rev:path`), or None when it is missing."""
        stdin, stdout = self._stdin, self._stdout
        stdin.write(spec.encode() + b"\n")
        stdin.flush()
        header = stdout.readline().split()
        if len(header) != 3:
            return None
        data = stdout.read(int(header[2]))
        stdout.read(1)
        return data

    def close(self) -> None:
        if self._proc.stdin:
            self._proc.stdin.close()
        if self._proc.stdout:
            self._proc.stdout.close()
        self._proc.wait()

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
