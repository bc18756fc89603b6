"""A scripted repository for the git loader tests: fixed authors and dates, one known bug."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

CALC_V1 = "def add(a, b):\n    return a + b\n\n\ndef divide(a, b):\n    return a / b\n"
# The bug: floor division. It is introduced by "Speed up division" and fixed by "Fixes #3".
CALC_BUG = "def add(a, b):\n    return a + b\n\n\ndef divide(a, b):\n    return a // b\n"
CALC_FIXED = CALC_V1
PNG_1 = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x01binary"
PNG_2 = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x02binary!"


@dataclass
class ScriptedRepo:
    """The repository and the sha of each scripted step by name."""

    path: Path
    shas: dict[str, str] = field(default_factory=dict)
    day: int = 0

    def git(self, *args: str, input_: bytes | None = None, author: str = "Alice") -> str:
        date = f"2024-01-{self.day:02d}T10:00:00+0200"
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": author,
            "GIT_AUTHOR_EMAIL": f"{author.lower()}@example.com",
            "GIT_COMMITTER_NAME": author,
            "GIT_COMMITTER_EMAIL": f"{author.lower()}@example.com",
            "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_DATE": date,
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_CONFIG_NOSYSTEM": "1",
        }
        out = subprocess.run(
            ["git", "-C", str(self.path), *args],
            input=input_,
            env=env,
            check=True,
            capture_output=True,
        )
        return out.stdout.decode().strip()

    def write(self, rel: str, content: str | bytes) -> None:
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)

    def commit(
        self, name: str, message: str | bytes, author: str = "Alice", stage_all: bool = True
    ) -> str:
        self.day += 1
        if stage_all:
            self.git("add", "-A")
        raw = message if isinstance(message, bytes) else message.encode()
        self.git("commit", "-q", "--allow-empty", "-F", "-", input_=raw, author=author)
        self.shas[name] = self.git("rev-parse", "HEAD")
        return self.shas[name]

    def raw_commit(self, name: str, message: bytes) -> str:
        """A commit whose message bytes are stored as given (`git commit` would re-encode)."""
        self.day += 1
        self.git("add", "-A")
        tree, parent = self.git("write-tree"), self.git("rev-parse", "HEAD")
        stamp = f"{int(_epoch(self.day))} +0200"
        who = f"Alice <alice@example.com> {stamp}"
        body = f"tree {tree}\nparent {parent}\nauthor {who}\ncommitter {who}\n\n".encode()
        sha = self.git("hash-object", "-t", "commit", "-w", "--stdin", input_=body + message)
        self.git("update-ref", "HEAD", sha)
        self.shas[name] = sha
        return sha


# one scripted commit: its name, its message, the files it writes (path -> content), and its
# author when not Alice
Step = tuple[str, str, dict[str, str | bytes]] | tuple[str, str, dict[str, str | bytes], str]


def played(path: Path, *steps: Step) -> ScriptedRepo:
    """A new repository at `path` (branch main) with one commit per step, in order."""
    repo = ScriptedRepo(path)
    repo.path.mkdir()
    repo.git("init", "-q", "-b", "main")
    for step in steps:
        for rel, content in step[2].items():
            repo.write(rel, content)
        repo.commit(step[0], step[1], author=step[3] if len(step) == 4 else "Alice")
    return repo


def _epoch(day: int) -> float:
    from datetime import datetime

    return datetime.fromisoformat(f"2024-01-{day:02d}T10:00:00+02:00").timestamp()


def build_repo(root: Path) -> ScriptedRepo:
    """Nine commits: binary file, bug, rename, branch + merge, latin-1 message, two fixes."""
    repo = ScriptedRepo(root / "calcrepo")
    repo.path.mkdir()
    repo.git("init", "-q", "-b", "main")
    repo.write("calc.py", CALC_V1)
    repo.write("logo.png", PNG_1)
    repo.write('odd "name".txt', "quoted path\n")
    repo.commit("initial", "Initial calculator")
    repo.write("calc.py", CALC_BUG)
    repo.commit("bug", "Speed up division", author="Bob")
    repo.git("mv", "calc.py", "mathlib.py")
    repo.commit("rename", "Move calc to mathlib")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("util.py", "def helper():\n    return 42\n")
    repo.commit("feature", "Add helper", author="Carol")
    repo.git("checkout", "-q", "main")
    repo.write("README.md", "# calc\n")
    repo.commit("readme", "Add readme")
    repo.day += 1
    repo.git("merge", "-q", "--no-ff", "-m", "Merge branch feature", "feature")
    repo.shas["merge"] = repo.git("rev-parse", "HEAD")
    repo.write("logo.png", PNG_2)
    repo.raw_commit("latin1", "Caf\xe9 logo update\n".encode("latin-1"))
    repo.write("mathlib.py", CALC_FIXED)
    repo.commit("fix", "Fix division crash\n\nFixes #3\n", author="Bob")
    repo.write("mathlib.py", CALC_FIXED + "\n\ndef half(a):\n    return a // 2\n")
    repo.commit("half", "Add half")
    repo.write("mathlib.py", CALC_FIXED + "\n\ndef half(a):\n    return a / 2\n")
    short = repo.shas["half"][:10]
    repo.commit("declared", f'Use true division in half\n\nFixes: {short} ("Add half")\n')
    return repo
