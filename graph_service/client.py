"""The notebook client: `connect()` gives the same calls over HTTP or on an embedded store."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

import httpx
import networkx as nx
import pandas as pd
import pyarrow as pa

from graph_service.errors import CallerError, ProdgraphError, QueryError
from graph_service.settings import Settings
from graph_service.store import GraphStore, QueryResult, open_store

if TYPE_CHECKING:
    from matplotlib.figure import Figure

logger = logging.getLogger(__name__)

__all__ = ["Client", "EmbeddedBackend", "HttpBackend", "RemoteError", "connect"]

_ARROW = "application/vnd.apache.arrow.stream"
_EDGES = {
    "ladybug": (
        "UNWIND $uids AS u MATCH (a {uid: u})-[r]->(b) RETURN a.uid AS src, label(a) AS src_label,"
        " label(r) AS rel, b.uid AS dst, label(b) AS dst_label",
        "UNWIND $uids AS u MATCH (b)-[r]->(a {uid: u}) RETURN b.uid AS src, label(b) AS src_label,"
        " label(r) AS rel, a.uid AS dst, label(a) AS dst_label",
    ),
    "neo4j": (
        "UNWIND $uids AS u MATCH (a {uid: u})-[r]->(b) RETURN a.uid AS src, labels(a)[0] AS "
        "src_label, type(r) AS rel, b.uid AS dst, labels(b)[0] AS dst_label",
        "UNWIND $uids AS u MATCH (b)-[r]->(a {uid: u}) RETURN b.uid AS src, labels(b)[0] AS "
        "src_label, type(r) AS rel, a.uid AS dst, labels(a)[0] AS dst_label",
    ),
}
_SEEDS = {
    "ladybug": "UNWIND $uids AS u MATCH (a {uid: u}) RETURN a.uid AS uid, label(a) AS label",
    "neo4j": "UNWIND $uids AS u MATCH (a {uid: u}) RETURN a.uid AS uid, labels(a)[0] AS label",
}


class RemoteError(ProdgraphError):
    """An error answered by the service, with its code, status and request id."""

    def __init__(self, status: int, code: str, message: str, detail: object = None) -> None:
        super().__init__(message, detail)
        self.status_code = status
        self.code = code


class Backend(Protocol):
    """What both transports provide."""

    backend: str

    def query(
        self,
        cypher: str,
        params: Mapping[str, Any],
        *,
        timeout_s: float | None = None,
        row_cap: int | None = None,
    ) -> QueryResult: ...

    def run(self, name: str, params: Mapping[str, Any]) -> QueryResult: ...

    def risk(self, body: dict[str, Any]) -> dict[str, Any]: ...

    def triage(self, body: dict[str, Any]) -> dict[str, Any]: ...

    def similar(self, body: dict[str, Any]) -> list[dict[str, Any]]: ...

    def error_history(self, fingerprint: str) -> dict[str, Any]: ...

    def ingest(self, source: str, paths: list[str], options: dict[str, str]) -> dict[str, Any]: ...

    def close(self) -> None: ...


class HttpBackend:
    """Calls a running `prodgraph serve` (Arrow IPC for results)."""

    def __init__(self, url: str, api_key: str | None = None, timeout_s: float = 60.0) -> None:
        # X-Prodgraph-Client: a header no cross-site form can send, which a service running
        # with auth disabled asks of every request that changes something
        headers = {"X-Prodgraph-Client": "python"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self.http = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout_s)
        ready = self.http.get("/readyz")
        self.backend = (
            str(ready.json().get("backend") or "ladybug") if ready.is_success else "ladybug"
        )

    def _check(self, r: httpx.Response) -> httpx.Response:
        if r.is_success:
            return r
        try:
            err = r.json()["error"]
        except (ValueError, KeyError, TypeError):
            err = {"code": "http_error", "message": r.text[:500], "detail": None}
        raise RemoteError(
            r.status_code, err.get("code", "http_error"), err.get("message", ""), err.get("detail")
        )

    def _table(self, path: str, body: dict[str, Any]) -> QueryResult:
        r = self._check(self.http.post(path, json=body, headers={"Accept": _ARROW}))
        table = pa.ipc.open_stream(io.BytesIO(r.content)).read_all()
        truncated = r.headers.get("x-prodgraph-truncated") == "true"
        return QueryResult(table, truncated, float(r.headers.get("x-prodgraph-elapsed-ms", 0)))

    def query(
        self,
        cypher: str,
        params: Mapping[str, Any],
        *,
        timeout_s: float | None = None,
        row_cap: int | None = None,
    ) -> QueryResult:
        body: dict[str, Any] = {"query": cypher, "params": dict(params)}
        if timeout_s:
            body["timeout_s"] = timeout_s
        if row_cap:
            body["row_cap"] = row_cap
        return self._table("/v1/cypher", body)

    def run(self, name: str, params: Mapping[str, Any]) -> QueryResult:
        return self._table(f"/v1/queries/{name}", {"params": dict(params)})

    def risk(self, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self._check(self.http.post("/v1/risk", json=body)).json())

    def triage(self, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self._check(self.http.post("/v1/triage", json=body)).json())

    def similar(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        return list(self._check(self.http.post("/v1/similar", json=body)).json())

    def error_history(self, fingerprint: str) -> dict[str, Any]:
        path = f"/v1/errors/{quote(fingerprint, safe='')}/history"
        return dict(self._check(self.http.get(path)).json())

    def ingest(self, source: str, paths: list[str], options: dict[str, str]) -> dict[str, Any]:
        if source in ("code", "git") and paths and Path(paths[0]).is_dir():
            # the server names the upload folder after `repo`: keep the uids of a local load
            options = {"repo": Path(paths[0]).resolve().name, **options}
        files = []
        for p in map(Path, paths):
            found = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
            for f in found:
                name = f.relative_to(p).as_posix() if p.is_dir() else f.name
                files.append(("files", (name, f.read_bytes(), "application/octet-stream")))
        query: list[tuple[str, str | int | float | bool | None]] = [
            ("option", f"{k}={v}") for k, v in options.items()
        ]
        r = self.http.post(f"/v1/ingest/{source}", files=files, params=httpx.QueryParams(query))
        return dict(self._check(r).json())

    def close(self) -> None:
        self.http.close()


class EmbeddedBackend:
    """Works directly on an embedded store (this process becomes its one writer)."""

    def __init__(self, store: GraphStore, settings: Settings) -> None:
        self.store, self.settings, self.backend = store, settings, store.backend

    def query(
        self,
        cypher: str,
        params: Mapping[str, Any],
        *,
        timeout_s: float | None = None,
        row_cap: int | None = None,
    ) -> QueryResult:
        return self.store.query(
            cypher,
            params,
            timeout_s=timeout_s or self.settings.query_timeout_s,
            row_cap=row_cap or self.settings.query_row_cap,
        )

    def run(self, name: str, params: Mapping[str, Any]) -> QueryResult:
        from graph_service.queries import run_named

        return run_named(
            self.store,
            name,
            params,
            timeout_s=self.settings.query_timeout_s,
            row_cap=self.settings.query_row_cap,
        )

    def risk(self, body: dict[str, Any]) -> dict[str, Any]:
        from graph_service.api.routes.risk import score
        from graph_service.api.schemas import RiskRequest
        from graph_service.api.state import load_model

        model, status = load_model(self.settings, self.store)
        state = _ScoringState(self.store, model, status)
        return score(state, RiskRequest.model_validate(body)).model_dump()

    def triage(self, body: dict[str, Any]) -> dict[str, Any]:
        from graph_service.api.routes.triage import TriageRequest
        from graph_service.triage import TicketInput, TriageConfig, triage

        req = TriageRequest.model_validate(body)
        config = TriageConfig(top_k=req.top_k, commit_since_days=req.commit_since_days)
        ticket = TicketInput.model_validate(req.model_dump(exclude={"top_k", "commit_since_days"}))
        return triage(self.store, ticket, self.settings, config).model_dump(mode="json")

    def similar(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        from graph_service.api.routes.triage import SimilarRequest
        from graph_service.triage import TicketInput, TriageConfig, similar

        req = SimilarRequest.model_validate(body)
        ticket = TicketInput.model_validate(req.model_dump(exclude={"k"}))
        found = similar(self.store, ticket, req.k, TriageConfig())
        return [s.model_dump(mode="json") for s in found]

    def error_history(self, fingerprint: str) -> dict[str, Any]:
        from graph_service.triage import TriageConfig, seen_before

        return seen_before(self.store, fingerprint, TriageConfig()).model_dump(mode="json")

    def ingest(self, source: str, paths: list[str], options: dict[str, str]) -> dict[str, Any]:
        from graph_service.ingest import ingest
        from loaders.registry import make_loader

        loader = make_loader(source, paths, self.settings, options)
        return ingest(self.store, loader).to_dict()

    def close(self) -> None:
        self.store.close()


class _ScoringState:
    """The little of ServiceState that risk scoring reads."""

    def __init__(self, store: GraphStore, model: Any, status: str) -> None:
        self.store, self.model, self.model_status = store, model, status

    def risk_history(self) -> Any | None:
        """No warm snapshot in a notebook: the scorer reads the store directly."""
        return None


class Client:
    """Query, run named queries, score risk, ingest, and explore subgraphs from a notebook."""

    def __init__(self, backend: Backend) -> None:
        self._b = backend

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._b.close()

    @property
    def backend(self) -> str:
        return self._b.backend

    def query(self, cypher: str, **params: Any) -> pd.DataFrame:
        """Run read-only Cypher; `$name` parameters as keyword arguments."""
        return self._b.query(cypher, params).to_pandas()

    def run(self, query: str, /, **params: Any) -> pd.DataFrame:
        """Run a named query (see `prodgraph queries` or GET /v1/queries); `name=` is free."""
        return self._b.run(query, params).to_pandas()

    def find(self, name: str, limit: int = 10) -> pd.DataFrame:
        """Functions and classes by name (`Client.send`), best match first: their uids."""
        df = self.run("find", name=name, limit=limit)
        if df.empty:
            return df
        # a line is a whole number, missing for code only the history knows (not 857.0 / NaN)
        df = df.assign(_len=df["qualname"].str.len(), line=df["line"].astype("Int64"))
        df = df.sort_values(["gone", "rank", "is_test", "_len", "uid"]).drop(columns="_len")
        return df.head(limit).reset_index(drop=True)

    def risk(
        self, sha: str | None = None, *, diff: str | None = None, paths: list[str] | None = None
    ) -> dict[str, Any]:
        """Score a commit sha, a unified diff, or changed paths / function uids."""
        body = {k: v for k, v in (("sha", sha), ("diff", diff), ("paths", paths)) if v is not None}
        return self._b.risk(body)

    def triage(
        self, title: str = "", body: str = "", *, top_k: int = 10, **ticket: Any
    ) -> dict[str, Any]:
        """Suspect functions, files and commits for a ticket, with evidence, similar past tickets
        and seen before (`service`, `created`, `commit_since_days`, ... as `POST /v1/triage`)."""
        created = ticket.get("created")
        if isinstance(created, datetime):
            ticket["created"] = created.isoformat()
        return self._b.triage({"title": title, "body": body, "top_k": top_k, **ticket})

    def similar(
        self, title: str = "", body: str = "", *, k: int = 10, **ticket: Any
    ) -> list[dict[str, Any]]:
        """Past tickets most like this one, best first, with the signals that matched (as
        `POST /v1/similar`): never the ticket itself (`uid`, or the same text), nor tickets
        without text, nor any scoring below the configured minimum."""
        created = ticket.get("created")
        if isinstance(created, datetime):
            ticket["created"] = created.isoformat()
        return self._b.similar({"title": title, "body": body, "k": k, **ticket})

    def error_history(self, fingerprint: str) -> dict[str, Any]:
        """An error signature's story (as `GET /v1/errors/{fingerprint}/history`): its
        signature, the earlier tickets reporting it, their fixes and deployments, regression."""
        return self._b.error_history(fingerprint)

    def ingest(self, source: str, *paths: str | Path, **options: str) -> dict[str, Any]:
        """Load files with a loader (`code`, `git`, `traces`, ...); returns the load report."""
        return self._b.ingest(source, [str(p) for p in paths], dict(options))

    def subgraph(
        self, uids: str | Iterable[str], hops: int = 1, *, max_edges: int = 5000
    ) -> nx.MultiDiGraph:
        """The nodes within `hops` of `uids` (both directions), with a ready `graph["pos"]`."""
        frontier = [uids] if isinstance(uids, str) else list(uids)
        g = nx.MultiDiGraph()
        for row in self._b.query(_SEEDS[self.backend], {"uids": frontier}).rows():
            g.add_node(row["uid"], label=row["label"], seed=True)
        seen = set(frontier)
        for _ in range(max(hops, 0)):
            found: set[str] = set()
            for cypher in _EDGES[self.backend]:
                res = self._b.query(cypher, {"uids": frontier}, row_cap=max_edges)
                for r in res.rows():
                    if g.number_of_edges() >= max_edges:
                        break
                    for uid, label in ((r["src"], r["src_label"]), (r["dst"], r["dst_label"])):
                        if uid not in g:
                            g.add_node(uid, label=label, seed=False)
                    if not g.has_edge(r["src"], r["dst"], key=r["rel"]):
                        g.add_edge(r["src"], r["dst"], key=r["rel"], type=r["rel"])
                    found.update((r["src"], r["dst"]))
            frontier = sorted(found - seen)
            seen |= found
            if not frontier:
                break
        g.graph["pos"] = nx.spring_layout(g, seed=7) if len(g) else {}
        return g

    def draw_subgraph(
        self, uids: str | Iterable[str], hops: int = 1, *, ax: Any = None, title: str | None = None
    ) -> Figure:
        """One matplotlib picture of `subgraph(uids, hops)`, nodes coloured by label."""
        import matplotlib.pyplot as plt

        g = self.subgraph(uids, hops)
        fig = ax.figure if ax is not None else plt.figure(figsize=(9, 7))
        ax = ax or fig.add_subplot()
        labels = sorted({d["label"] for _, d in g.nodes(data=True)})
        cmap = plt.get_cmap("tab20")
        for i, label in enumerate(labels):
            nodes = [n for n, d in g.nodes(data=True) if d["label"] == label]
            nx.draw_networkx_nodes(
                g,
                g.graph["pos"],
                nodelist=nodes,
                ax=ax,
                node_size=260,
                node_color=[cmap(i % 20)],
                label=label,
            )
        nx.draw_networkx_edges(g, g.graph["pos"], ax=ax, alpha=0.4, arrows=True)
        short = {n: str(n).rsplit(":", 1)[-1][:24] for n in g.nodes}
        nx.draw_networkx_labels(g, g.graph["pos"], labels=short, ax=ax, font_size=7)
        if labels:
            ax.legend(loc="best", fontsize=8)
        ax.set_title(title or f"{len(g)} nodes, {g.number_of_edges()} edges")
        ax.set_axis_off()
        return fig

    def to_pyg(self, uids: str | Iterable[str] | None = None, hops: int = 1) -> Any:
        """A PyG `HeteroData`: the whole graph (models.dataset export), or a subgraph's shape."""
        if uids is None:
            from models.dataset import export_hetero

            return export_hetero(_StrictReader(self._b))
        return _hetero_from(self.subgraph(uids, hops))


class _StrictReader:
    """A GraphReader over a backend that refuses silently truncated results."""

    def __init__(self, backend: Backend) -> None:
        self._b = backend

    def query(
        self,
        cypher: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout_s: float | None = None,
        row_cap: int | None = None,
    ) -> QueryResult:
        res = self._b.query(cypher, params or {}, timeout_s=timeout_s, row_cap=row_cap)
        if res.truncated:
            raise QueryError("the export hit the row cap: raise PRODGRAPH_QUERY_ROW_CAP")
        return res


def _hetero_from(g: nx.MultiDiGraph) -> Any:
    import torch
    from torch_geometric.data import HeteroData

    data = HeteroData()
    index: dict[str, dict[str, int]] = {}
    for n, d in g.nodes(data=True):
        index.setdefault(d["label"], {})[n] = len(index.get(d["label"], {}))
    for label, ids in index.items():
        data[label].uid = list(ids)
        data[label].num_nodes = len(ids)
    pairs: dict[tuple[str, str, str], list[tuple[int, int]]] = {}
    for s, t, d in g.edges(data=True):
        key = (g.nodes[s]["label"], d["type"], g.nodes[t]["label"])
        pairs.setdefault(key, []).append((index[key[0]][s], index[key[2]][t]))
    for key, edges in pairs.items():
        data[key].edge_index = torch.tensor(edges, dtype=torch.long).t().contiguous()
    return data


def connect(
    url: str | None = None,
    path: str | Path | None = None,
    api_key: str | None = None,
    settings: Settings | None = None,
) -> Client:
    """A client for the service at `url`, or for the embedded store at `path` (one of them)."""
    if (url is None) == (path is None):
        raise CallerError("connect() needs exactly one of url= (a running service) or path=")
    if url is not None:
        return Client(HttpBackend(url, api_key))
    base = settings or Settings()
    settings = base.model_copy(update={"db_path": Path(path or ""), "backend": "ladybug"})
    existed = settings.db_path.exists()
    client = Client(EmbeddedBackend(open_store(settings, create=True), settings))
    if not existed:  # a mistyped path answers every question with nothing: say so
        logger.warning(
            "no store at %s: created an empty one (load it with .ingest(), or check the path)",
            settings.db_path,
        )
    return client
