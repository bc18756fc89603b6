"""Text retrieval for triage: identifier-aware tokens, a sparse BM25 index and TF-IDF cosine."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Sequence

import numpy as np
from scipy import sparse

logger = logging.getLogger(__name__)

__all__ = ["BM25Index", "TfidfIndex", "identifiers", "tokenize", "top_k"]

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*|\d+")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_CODE = re.compile(r"[a-z]+\d[a-z0-9]*|\d+[a-z][a-z0-9]*")
_URL = re.compile(r"\b(?:[a-z][a-z0-9+.-]*://|www\.)\S+", re.IGNORECASE)
# last parts of dotted tokens that are file extensions or host names, not code names
_NOT_NAMES = frozenset(
    [
        "py",
        "pyi",
        "pyc",
        "pyx",
        "js",
        "mjs",
        "ts",
        "tsx",
        "jsx",
        "java",
        "kt",
        "go",
        "rb",
        "rs",
        "cs",
        "cpp",
        "hpp",
        "txt",
        "md",
        "rst",
        "json",
        "yaml",
        "yml",
        "toml",
        "cfg",
        "ini",
        "html",
        "css",
        "log",
        "png",
        "jpg",
        "gif",
        "svg",
        "exe",
        "dll",
        "com",
        "org",
        "net",
    ]
)
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "for",
        "from",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yes",
        "also",
        "get",
        "got",
        "use",
        "using",
        "used",
        "self",
        "cls",
        "none",
        "true",
        "false",
        "def",
        "return",
        "import",
        "py",
        "line",
        "file",
    ]
)


def _stem(token: str) -> str:
    """A light plural/verb-ending fold so `tests`/`test` and `raises`/`raise` meet."""
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 4 and token.endswith(("sses", "xes")):
        return token[:-2]
    if len(token) > 3 and token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


def tokenize(text: str) -> list[str]:
    """Lower-cased terms; `parseHTTPRequest` / `parse_http_request` both give parse, http, request.

    A compound identifier also keeps its joined form (`parsehttprequest`), so exact identifier
    matches outscore matches on the parts alone. Codes that mix letters and digits (`F401`,
    `E501`, `TCH004`, `utf8`) are kept whole: their parts alone (`f`, `401`) say nothing.
    """
    out: list[str] = []
    for m in _IDENT.finditer(text or ""):
        for ident in m.group(0).split("."):
            parts = [p.lower() for chunk in ident.split("_") for p in _CAMEL.findall(chunk)]
            parts = [p for p in parts if len(p) > 1 and p not in _STOP and not p.isdigit()]
            out.extend(_stem(p) for p in parts)
            joined = ident.replace("_", "").lower()
            compound = len(parts) > 1 and len(joined) > 3
            code = len(joined) > 1 and _CODE.fullmatch(joined) is not None
            if compound or (code and joined not in parts):
                out.append(joined)
    return out


def identifiers(text: str) -> set[str]:
    """Code-like identifiers named in free text: snake_case, camelCase, dotted or call syntax.

    Addresses (URLs) are skipped, and so is the last part of a dotted token when it is a file
    extension or a host suffix (`setup.py`, `github.com`) or shorter than 3 characters."""
    found: set[str] = set()
    for m in _IDENT.finditer(_URL.sub(" ", text or "")):
        token = m.group(0)
        for part in token.split("."):
            if len(part) > 2 and ("_" in part or re.search(r"[a-z][A-Z]", part)):
                found.add(part)
        last = token.rsplit(".", 1)[-1]
        if "." in token and len(last) > 2 and last.lower() not in _NOT_NAMES:
            found.add(last)
    return {f.strip("_") or f for f in found}


class _Vocab:
    def __init__(self) -> None:
        self.ids: dict[str, int] = {}

    def add(self, tokens: Iterable[str]) -> list[int]:
        ids = self.ids
        return [ids.setdefault(t, len(ids)) for t in tokens]

    def lookup(self, tokens: Iterable[str]) -> list[int]:
        return [i for t in tokens if (i := self.ids.get(t)) is not None]


def _count_matrix(docs: Sequence[Sequence[str]], vocab: _Vocab) -> sparse.csr_matrix:
    rows: list[int] = []
    cols: list[int] = []
    for r, doc in enumerate(docs):
        ids = vocab.add(doc)
        rows.extend([r] * len(ids))
        cols.extend(ids)
    data = np.ones(len(rows), dtype=np.float32)
    m = sparse.csr_matrix(
        (data, (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64))),
        shape=(len(docs), max(len(vocab.ids), 1)),
    )
    m.sum_duplicates()
    return m


class BM25Index:
    """Okapi BM25 over pre-tokenised documents, stored as a column-sliceable sparse matrix.

    Args:
        docs: one token list per document (see `tokenize`).
        k1: term-frequency saturation (default 1.2).
        b: length normalisation (default 0.75).
    """

    def __init__(self, docs: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75) -> None:
        self.vocab = _Vocab()
        tf = _count_matrix(docs, self.vocab)
        self.n_docs = len(docs)
        lengths = np.asarray(tf.sum(axis=1)).ravel()
        avg = float(lengths.mean()) if self.n_docs else 1.0
        df = np.diff(tf.tocsc().indptr)
        self.idf = np.log1p((self.n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
        norm = k1 * (1 - b + b * lengths / max(avg, 1e-9))
        coo = tf.tocoo()
        weights = coo.data * (k1 + 1) / (coo.data + norm[coo.row]) * self.idf[coo.col]
        self.matrix = sparse.csc_matrix(
            (weights.astype(np.float32), (coo.row, coo.col)), shape=tf.shape
        )

    def scores(self, query: Sequence[str]) -> np.ndarray:
        """BM25 score of every document for the query tokens (repeated tokens count again)."""
        out = np.zeros(self.n_docs, dtype=np.float32)
        ids = self.vocab.lookup(query)
        if not ids or not self.n_docs:
            return out
        uniq, counts = np.unique(np.asarray(ids), return_counts=True)
        sub = self.matrix[:, uniq]
        return np.asarray(sub @ counts.astype(np.float32)).ravel()

    def top(self, query: Sequence[str], k: int) -> list[tuple[int, float]]:
        """The k best (document index, score) pairs with a positive score, best first."""
        s = self.scores(query)
        return top_k(s, k)


class TfidfIndex:
    """TF-IDF (log tf, smooth idf, l2) cosine similarity: the duplicate-detection baseline."""

    def __init__(self, docs: Sequence[Sequence[str]]) -> None:
        self.vocab = _Vocab()
        tf = _count_matrix(docs, self.vocab)
        n = max(len(docs), 1)
        df = np.diff(tf.tocsc().indptr)
        self.idf = (np.log((1 + n) / (1 + df)) + 1).astype(np.float32)
        m = tf.tocsr(copy=True)
        m.data = (1 + np.log(m.data)).astype(np.float32)
        m = m.multiply(self.idf).tocsr()
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        self.matrix = sparse.diags(1 / np.maximum(norms, 1e-9)) @ m

    def scores(self, query: Sequence[str]) -> np.ndarray:
        counts: dict[int, int] = {}
        for i in self.vocab.lookup(query):
            counts[i] = counts.get(i, 0) + 1
        if not counts:
            return np.zeros(self.matrix.shape[0], dtype=np.float32)
        cols = np.fromiter(counts, dtype=np.int64)
        vals = (1 + np.log(np.fromiter(counts.values(), dtype=np.float32))) * self.idf[cols]
        vals /= max(math.sqrt(float((vals**2).sum())), 1e-9)
        q = sparse.csr_matrix((vals, (np.zeros(len(cols), dtype=np.int64), cols)))
        q.resize((1, self.matrix.shape[1]))
        return np.asarray((self.matrix @ q.T).todense()).ravel()


def top_k(scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """Indices of the k largest positive scores, best first."""
    if k <= 0 or scores.size == 0:
        return []
    k = min(k, scores.size)
    idx = np.argpartition(-scores, k - 1)[:k]
    idx = idx[np.argsort(-scores[idx], kind="stable")]
    return [(int(i), float(scores[i])) for i in idx if scores[i] > 0]
