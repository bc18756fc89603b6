"""Ticket words against function bodies, read from the repository's clone as of the ticket."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from datetime import datetime

from graph_service.store.base import GraphReader
from graph_service.triage.blame import RepoClone, read_blob, repo_clones, revision_at
from graph_service.triage.code_index import CodeIndex
from graph_service.triage.models import Evidence
from graph_service.triage.text import BM25Index, tokenize

logger = logging.getLogger(__name__)

__all__ = ["body_signals", "file_lines"]

_FILES = 15  # candidate files whose function bodies are read (strongest by all signals)
_TEXT_FILES = 10  # and the strongest by the ticket's words alone (the trace may not reach them)
_TEXT = ("bm25", "name_mention", "path_mention")
_CACHE: OrderedDict[tuple[str, str, str], list[str]] = OrderedDict()
_LOCK = threading.Lock()
Q_BODY = "MATCH (f:Function {uid: $uid}) RETURN f.path, f.start_line, f.end_line"


def file_lines(repo: RepoClone, rev: str, path: str) -> list[str]:
    """The lines of `path` at `rev` in the clone (cached; empty when unreadable), read through
    the clone's one `git cat-file --batch` process."""
    key = (str(repo.path), rev, path)
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is not None:
        return hit
    data = read_blob(repo.path, f"{rev}:{path}")
    text = data.decode("utf-8", "replace") if data is not None else ""
    lines = text.splitlines()
    with _LOCK:
        _CACHE[key] = lines
        while len(_CACHE) > 512:
            _CACHE.popitem(last=False)
    return lines


def body_signals(
    store: GraphReader,
    code: CodeIndex,
    table_fn: dict[int, dict[str, float]],
    table_file: dict[int, dict[str, float]],
    tokens: list[str],
    now: datetime,
) -> dict[str, Evidence]:
    """`body_bm25` for the functions of the strongest candidate files: BM25 of the ticket's
    words over each function's source lines (as of `now`), normalised by the best. Only when
    the store knows a clone of the repository; returns the evidence per function uid."""
    clones = repo_clones(store) if tokens else {}
    if not clones:
        return {}
    names = sorted(clones, key=len, reverse=True)
    eligible = [fi for fi in table_file if code.file_code[fi] and not code.file_test[fi]]
    ranked = sorted(eligible, key=lambda fi: -sum(v for v in table_file[fi].values() if v > 0))
    by_text = sorted(eligible, key=lambda fi: -sum(table_file[fi].get(k, 0.0) for k in _TEXT))
    ranked = list(dict.fromkeys(ranked[:_FILES] + by_text[:_TEXT_FILES]))
    fns: list[int] = []
    docs: list[list[str]] = []
    for fi in ranked:
        uid = code.file_uid[fi]
        repo = next((clones[n] for n in names if uid.startswith(f"file:{n}:")), None)
        rev = revision_at(repo, now) if repo is not None else None
        if repo is None or rev is None:
            continue
        lines = file_lines(repo, rev, code.file_path[fi])
        for fn in code.fns_in_file.get(fi, []):
            s, e = int(code.fn_start[fn]), int(code.fn_end[fn])
            if 0 < s <= e and not code.fn_test[fn]:
                fns.append(fn)
                docs.append(tokenize("\n".join(lines[s - 1 : e])[:50_000]))
    if not fns:
        return {}
    top = BM25Index(docs).top(tokens, 50)
    if not top or top[0][1] <= 0:
        return {}
    best = top[0][1]
    out: dict[str, Evidence] = {}
    for j, score in top:
        v = score / best
        if v < 0.1:
            continue
        fn = fns[j]
        row = table_fn.setdefault(fn, {})
        row["body_bm25"] = max(row.get("body_bm25", 0.0), v)
        uid = code.fn_uid[fn]
        out[uid] = Evidence(
            signal="body_bm25",
            value=round(v, 4),
            detail="ticket words match its source lines",
            cypher=Q_BODY,
            params={"uid": uid},
        )
    return out
