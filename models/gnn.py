"""Heterogeneous GNN that scores a change and the files/functions it touches."""

from __future__ import annotations

import logging
import warnings

import torch
from torch import Tensor, nn
from torch_geometric.nn import HeteroConv, SAGEConv

from models.egograph import EDGE_TYPES, NODE_DIMS

logger = logging.getLogger(__name__)

__all__ = ["RiskGNN"]

EdgeType = tuple[str, str, str]


class RiskGNN(nn.Module):
    """GraphSAGE message passing over typed ego graphs (`HeteroConv` of `SAGEConv`).

    Hamilton et al., "Inductive Representation Learning on Large Graphs" (NeurIPS 2017),
    https://arxiv.org/abs/1706.02216, applied per relationship type as in Schlichtkrull et al.,
    "Modeling Relational Data with Graph Convolutional Networks" (2018).

    Each layer computes, for every node type, `relu(W_self h + sum_rel SAGE_rel(h))`. With
    `use_edges=False` the relation terms vanish and the same network is a per-node MLP: the
    `gnn_no_edges` ablation. Inputs are standardised by buffers fitted on training data, so
    the `state_dict` alone restores the model.

    Args:
        hidden (int): embedding width. (default: 32)
        layers (int): message-passing layers. (default: 2)
        dropout (float): dropout between layers. (default: 0.1)
        use_edges (bool): pass messages along graph edges. (default: True)
    """

    def __init__(
        self, hidden: int = 32, layers: int = 2, dropout: float = 0.1, use_edges: bool = True
    ) -> None:
        super().__init__()
        self.hidden, self.dropout, self.use_edges = hidden, dropout, use_edges
        self.inp = nn.ModuleDict({k: nn.Linear(d, hidden) for k, d in NODE_DIMS.items()})
        for k, d in NODE_DIMS.items():
            self.register_buffer(f"mean_{k}", torch.zeros(d))
            self.register_buffer(f"std_{k}", torch.ones(d))
        self.self_lins = nn.ModuleList(
            nn.ModuleDict({k: nn.Linear(hidden, hidden) for k in NODE_DIMS}) for _ in range(layers)
        )
        with warnings.catch_warnings():  # person nodes only send messages, by design
            warnings.filterwarnings("ignore", message=".*do not get updated.*")
            self.convs = nn.ModuleList(
                HeteroConv(
                    {et: SAGEConv(hidden, hidden, root_weight=False) for et in EDGE_TYPES},
                    aggr="sum",
                )
                for _ in range(layers)
            )
        self.commit_head = nn.Linear(hidden + NODE_DIMS["commit"], 1)
        self.node_head = nn.Linear(2 * hidden, 1)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Linear | SAGEConv):
                module.reset_parameters()

    def fit_scaler(self, x_dict: dict[str, Tensor]) -> None:
        """Set the standardisation buffers from training inputs."""
        for k, x in x_dict.items():
            if x.shape[0] > 1:
                getattr(self, f"mean_{k}").copy_(x.mean(0))
                getattr(self, f"std_{k}").copy_(x.std(0).clamp_min(1e-3))

    def scale(self, x_dict: dict[str, Tensor]) -> dict[str, Tensor]:
        return {
            k: (x - getattr(self, f"mean_{k}")) / getattr(self, f"std_{k}")
            for k, x in x_dict.items()
        }

    def forward(
        self, x_dict: dict[str, Tensor], edge_index_dict: dict[EdgeType, Tensor]
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """Return (commit logits [n_commits], node logits per type for file/function nodes)."""
        scaled = self.scale(x_dict)
        h = {k: torch.relu(self.inp[k](x)) for k, x in scaled.items()}
        h0 = h
        edges = edge_index_dict if self.use_edges else {}
        for conv, lins in zip(self.convs, self.self_lins, strict=True):
            msg = conv(h, edges) if edges else {}
            out = {}
            for k, x in h.items():
                z = lins[k](x)  # type: ignore[index]
                if k in msg:
                    z = z + msg[k]
                out[k] = nn.functional.dropout(torch.relu(z), self.dropout, self.training)
            h = out
        commit = self.commit_head(torch.cat([h["commit"], scaled["commit"]], -1)).squeeze(-1)
        nodes: dict[str, Tensor] = {
            k: self.node_head(torch.cat([h[k], h0[k]], -1)).squeeze(-1)
            for k in ("file", "function")
            if k in h
        }
        return commit, nodes
