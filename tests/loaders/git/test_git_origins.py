"""Replayed line origins answer what `git blame -w` answers, line for line, on real history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from loaders.base import LoadReport
from loaders.git.config import GitConfig
from loaders.git.gitcli import BlobReader, Git
from loaders.git.loader import GitLoader
from loaders.git.log_parser import LOG_ARGS, parse_log
from loaders.git.origins import LineOrigins
from tests.loaders.git.git_history_repo import ScriptedRepo

APP_V1 = """def a(x):
    y = x + 1
    return y


def b(x):
    return x * 2


def c(x):
    return x - 3


def s(p):
    p = norm(p)
    for sep in seps:
        if sep in p:
            raise E()
    if far(p):
        raise E()
    return p
"""
LOOP_OLD = APP_V1[APP_V1.index("def s(p)") :]
LOOP_NEW = """def s(*ps):
    for p in ps:
        p = norm(p)
        for sep in seps:
            if sep in p:
                raise E()
        if far(p):
            raise E()
    return ps
"""


def _build(root: Path) -> ScriptedRepo:
    """Bug, re-indent, a branch merged with changes on both sides, a rename, a revert."""
    repo = ScriptedRepo(root / "origins")
    repo.path.mkdir()
    repo.git("init", "-q", "-b", "main")
    repo.write("app.py", APP_V1)
    repo.write("tests/test_app.py", "def test_a():\n    assert True\n")
    repo.commit("initial", "Initial")
    repo.write("app.py", APP_V1.replace("x * 2", "x * 3"))
    repo.commit("bug", "Triple instead of double", author="Bob")
    repo.git("checkout", "-q", "-b", "feature")
    text = (repo.path / "app.py").read_text()
    repo.write("app.py", text.replace("x - 3", "x - 4") + "\n\ndef d(x):\n    return -x\n")
    repo.commit("feature", "Add d", author="Carol")
    repo.git("checkout", "-q", "main")
    text = (repo.path / "app.py").read_text()
    text = text.replace(
        "def a(x):\n    y = x + 1\n    return y\n",
        "def a(x):\n    if x:\n        y = x + 1\n        return y\n    return 0\n",
    )
    repo.write("app.py", text)
    repo.commit("reindent", "Guard a")
    repo.day += 1
    repo.git("merge", "-q", "--no-ff", "-m", "Merge feature", "feature")
    repo.shas["merge"] = repo.git("rev-parse", "HEAD")
    repo.git("mv", "app.py", "core.py")
    text = (repo.path / "core.py").read_text()
    repo.write("core.py", text.replace("def c(x):", "def c(x):  # subtract"))
    repo.commit("rename", "Rename app to core")
    text = (repo.path / "core.py").read_text()
    repo.write("core.py", text.replace(LOOP_OLD, LOOP_NEW))
    repo.commit("loop", "Many paths")  # re-indents a block across two diff hunks
    before = (repo.path / "core.py").read_text()
    repo.write("core.py", before.replace("return -x", "return -x * 1"))
    repo.commit("detour", "Scale d")
    repo.write("core.py", before)
    repo.commit("revert", "Revert scaling d")
    text = before.replace("x * 3", "x * 2").replace("return -x", "return 0 - x")
    text = text.replace("    return x - 4", "    return x - 5")
    repo.write("core.py", text.replace("        y = x + 1", "        y = x + 2"))
    repo.commit("fix", "Fix doubling, d and c\n\nFixes #9\n", author="Bob")
    return repo


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> ScriptedRepo:
    return _build(tmp_path_factory.mktemp("origins"))


def _blame_w(git: Git, rev: str, path: str) -> list[str]:
    """The commit of every line of `path` at `rev`, as `git blame -w` says."""
    out = git.run("blame", "-w", "--porcelain", rev, "--", path)
    shas = []
    for line in out.splitlines():
        head = line.split(b" ")
        if len(head) >= 3 and len(head[0]) == 40 and head[1].isdigit():
            shas.append(head[0].decode())
    return shas


def test_every_line_of_every_version_matches_git_blame_w(repo):
    git = Git(repo.path)
    todo = list(reversed(git.rev_list("HEAD")))
    checked = 0
    with BlobReader(git) as blobs:
        origins = LineOrigins(
            blobs.read, lambda at, path: git.text("rev-list", "-1", at, "--", path) or None
        )
        for record in parse_log(git.stream(LOG_ARGS, todo)):
            origins.add_commit(record, lambda change: True)
            for path, (_mode, blob) in git.ls_tree(record.sha).items():
                expected = _blame_w(git, record.sha, path)
                lines = list(range(1, len(expected) + 1))
                found = origins.blame(blob, record.sha, path, lines)
                assert found is not None, (record.sha, path)
                got = sorted(found[0].elements())
                assert got == sorted(expected), (record.message, path)
                assert all(found[1][s] for s in found[0])
                checked += 1
    assert checked > 10
    assert origins.versions_unknown == 0


def test_a_version_with_an_unknown_parent_is_unknown(repo):
    """History before the loaded range is not replayed: blame must run there."""
    git = Git(repo.path)
    todo = [repo.shas["fix"]]
    with BlobReader(git) as blobs:
        origins = LineOrigins(blobs.read, lambda at, path: None)
        for record in parse_log(git.stream(LOG_ARGS, todo)):
            origins.add_commit(record, lambda change: True)
            change = next(c for c in record.files if c.path == "core.py")
            assert origins.blame(change.old_blob, record.parents[0], "core.py", [1]) is None
            assert origins.blame(change.new_blob, record.sha, "core.py", [1]) is None
    assert origins.versions_unknown == 1


def _induced(path: Path, **options: Any) -> tuple[dict[tuple[str, str], int], LoadReport]:
    report = LoadReport("git")
    loader = GitLoader(GitConfig(repo_path=path, **options))
    rows: dict[tuple[str, str], int] = {}
    for batch in loader.extract(report, None):
        if getattr(batch, "type", None) == "INDUCED":
            for row in batch.table.to_pylist():
                rows[(row["src"], row["dst"])] = row["lines"]
    return rows, report


def test_replayed_szz_gives_the_same_induced_edges_as_blame(repo):
    replayed, report = _induced(repo.path)
    blamed, blame_report = _induced(repo.path, szz_replay=False)
    assert replayed == blamed
    fix = f"commit:{repo.shas['fix']}"
    # the doubling bug, the branch's c line (through the merge), the re-indented line (its
    # origin is older than the re-indent) and d's line as the revert restored it
    assert {src for src, dst in replayed if dst == fix} == {
        f"commit:{repo.shas[n]}" for n in ("bug", "feature", "initial", "revert")
    }
    assert report.stats["szz_replayed"] >= 1 and report.stats.get("szz_blames", 0) == 0
    assert blame_report.stats["szz_blames"] >= 1


def test_ignored_revisions_fall_back_to_blame(tmp_path):
    repo = ScriptedRepo(tmp_path / "ignored")
    repo.path.mkdir()
    repo.git("init", "-q", "-b", "main")
    repo.write("calc.py", "def scale(x):\n    y = x\n    return y * 2\n")
    repo.commit("initial", "Initial")
    repo.write("calc.py", "def scale(x):\n    y = x + 1\n    return y * 2\n")
    repo.commit("bug", "Offset input", author="Bob")
    # listed, though not cosmetic (the operands swap: the tree differs)
    repo.write("calc.py", "def scale(x):\n    y = 1 + x\n    return y * 2\n")
    repo.commit("reformat", "Reformat")
    repo.write(".git-blame-ignore-revs", f"{repo.shas['reformat']}\n")
    repo.write("calc.py", "def scale(x):\n    y = x\n    return y * 2\n")
    repo.commit("fix", "Repair scaling, fixes #8")
    replayed, report = _induced(repo.path)
    blamed, _ = _induced(repo.path, szz_replay=False)
    assert replayed == blamed == {(f"commit:{repo.shas['bug']}", f"commit:{repo.shas['fix']}"): 1}
    assert report.stats["szz_blames"] == 1  # the reformatted line is unknown to the replay


def test_a_type_change_does_not_shift_hunks_onto_other_files(tmp_path):
    """`git log -p` prints a file -> symlink change as two diff sections for one raw line;
    every later file of the commit must still get its own hunks."""
    import subprocess

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    git("config", "user.email", "a@example.com")
    git("config", "user.name", "A")
    (tmp_path / "GUIDE.md").write_text("one\ntwo\nthree\n")
    (tmp_path / "NOTES.md").write_text("notes\n")
    (tmp_path / "z.py").write_text("def f():\n    return 1\n")
    git("add", ".")
    git("commit", "-qm", "first")
    (tmp_path / "GUIDE.md").unlink()
    (tmp_path / "GUIDE.md").symlink_to("NOTES.md")
    (tmp_path / "z.py").write_text("def f():\n    x = 2\n    return 1\n")
    git("add", "-A")
    git("commit", "-qm", "second")
    repo = Git(tmp_path)
    records = list(parse_log(repo.stream(LOG_ARGS, list(reversed(repo.rev_list("HEAD"))))))
    second = next(r for r in records if r.message.strip() == "second")
    by_path = {c.path: c for c in second.files}
    assert by_path["GUIDE.md"].status == "T" and by_path["GUIDE.md"].hunks == []
    (hunk,) = by_path["z.py"].hunks
    assert (hunk.old_start, hunk.old_count, hunk.new_start, hunk.new_count) == (1, 0, 2, 1)
    assert hunk.added == [b"    x = 2\n"]
    assert (by_path["z.py"].lines_added, by_path["z.py"].lines_deleted) == (1, 0)
