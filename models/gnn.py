"""Heterogeneous GNN that scores a change and the files/functions it touches."""

from __future__ import annotations

import logging
import warnings
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.nn import HeteroConv, SAGEConv

from models.egograph import EDGE_TYPES, NODE_DIMS

logger = logging.getLogger(__name__)

__all__ = ["RiskGNN", "RiskNet"]

EdgeType = tuple[str, str, str]

# parameter names of a single network, as saved before ensembles existed (no `members.` prefix)
_NET_PARTS = ("inp", "self_lins", "convs", "commit_head", "node_head")


class RiskNet(nn.Module):
    """One GraphSAGE network over typed ego graphs (`HeteroConv` of `SAGEConv`) on scaled inputs.

    Hamilton et al., "Inductive Representation Learning on Large Graphs" (NeurIPS 2017),
    https://arxiv.org/abs/1706.02216, applied per relationship type as in Schlichtkrull et al.,
    "Modeling Relational Data with Graph Convolutional Networks" (2018).

    Each layer computes, for every node type, `relu(W_self h + sum_rel SAGE_rel(h))`. With
    `use_edges=False` the relation terms vanish and the same network is a per-node MLP: the
    `gnn_no_edges` ablation. The commit head also sees the scaled commit features directly (a
    linear skip), so the network starts from what a logistic regression on them would learn.

    Args:
        hidden (int): embedding width. (default: 16)
        layers (int): message-passing layers. (default: 2)
        dropout (float): dropout between layers. (default: 0.1)
        use_edges (bool): pass messages along graph edges. (default: True)
    """

    def __init__(
        self, hidden: int = 16, layers: int = 2, dropout: float = 0.1, use_edges: bool = True
    ) -> None:
        super().__init__()
        self.hidden, self.dropout, self.use_edges = hidden, dropout, use_edges
        self.inp = nn.ModuleDict({k: nn.Linear(d, hidden) for k, d in NODE_DIMS.items()})
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

    def forward(
        self, scaled: dict[str, Tensor], edge_index_dict: dict[EdgeType, Tensor]
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """(commit logits [n_commits], node logits per type) from standardised inputs."""
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


class RiskGNN(nn.Module):
    """The risk model: `members` independently initialised `RiskNet`s averaged in logit space.

    A small seed ensemble is a standard variance reducer for networks trained on little data
    (Lakshminarayanan et al., "Simple and Scalable Predictive Uncertainty Estimation using Deep
    Ensembles", NeurIPS 2017, https://arxiv.org/abs/1612.01474). The ensemble is one module with
    one forward pass, so scoring and gradient explanations treat it like a single network.
    Inputs are standardised by buffers fitted on training data (shared by all members), so the
    `state_dict` alone restores the model; a `state_dict` saved by a single network (before
    ensembles) loads into `members=1`.

    Args:
        hidden (int): embedding width. (default: 16)
        layers (int): message-passing layers. (default: 2)
        dropout (float): dropout between layers. (default: 0.1)
        use_edges (bool): pass messages along graph edges. (default: True)
        members (int): networks in the ensemble. (default: 1)
    """

    prior_w: Tensor
    prior_b: Tensor

    def __init__(
        self,
        hidden: int = 16,
        layers: int = 2,
        dropout: float = 0.1,
        use_edges: bool = True,
        members: int = 1,
    ) -> None:
        super().__init__()
        if members < 1:
            raise ValueError(f"members must be at least 1, got {members}")
        self.hidden, self.dropout, self.use_edges = hidden, dropout, use_edges
        for k, d in NODE_DIMS.items():
            self.register_buffer(f"mean_{k}", torch.zeros(d))
            self.register_buffer(f"std_{k}", torch.ones(d))
        # the size prior: a fixed linear logit on the commit's log features (in practice
        # log(1 + lines added), fitted by `set_prior` before training), added to every member's
        # commit logit, so the networks learn what size alone does not explain. Zero: no prior.
        self.register_buffer("prior_w", torch.zeros(NODE_DIMS["commit"]))
        self.register_buffer("prior_b", torch.zeros(()))
        self.members = nn.ModuleList(
            RiskNet(hidden, layers, dropout, use_edges) for _ in range(members)
        )
        self.register_load_state_dict_pre_hook(_single_net_keys)

    def reset_parameters(self) -> None:
        for member in self.members:
            member.reset_parameters()  # type: ignore[operator]

    def fit_scaler(self, x_dict: dict[str, Tensor]) -> None:
        """Set the standardisation buffers from training inputs."""
        for k, x in x_dict.items():
            if x.shape[0] > 1:
                getattr(self, f"mean_{k}").copy_(x.mean(0))
                getattr(self, f"std_{k}").copy_(x.std(0).clamp_min(1e-3))

    def set_prior(self, weights: Tensor, bias: float) -> None:
        """The fixed commit-logit prior: `weights` over the log commit features, plus `bias`."""
        self.prior_w.copy_(weights)
        self.prior_b.fill_(bias)

    def prior(self, x_commit: Tensor) -> Tensor:
        """The prior's logit per commit row of (log, unscaled) commit features."""
        return x_commit @ self.prior_w + self.prior_b

    def scale(self, x_dict: dict[str, Tensor]) -> dict[str, Tensor]:
        return {
            k: (x - getattr(self, f"mean_{k}")) / getattr(self, f"std_{k}")
            for k, x in x_dict.items()
        }

    def forward_members(
        self,
        x_dict: dict[str, Tensor],
        edge_index_dict: dict[EdgeType, Tensor],
        members: list[int] | None = None,
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """Per-member logits: commit [members, n_commits], nodes per type [members, n], for
        the members at positions `members` (default: all)."""
        scaled = self.scale(x_dict)
        chosen = range(len(self.members)) if members is None else members
        outs = [self.members[i](scaled, edge_index_dict) for i in chosen]
        commit = torch.stack([c for c, _ in outs])
        if "commit" in x_dict:
            commit = commit + self.prior(x_dict["commit"])
        nodes = {k: torch.stack([n[k] for _, n in outs]) for k in outs[0][1]}
        return commit, nodes

    def forward(
        self, x_dict: dict[str, Tensor], edge_index_dict: dict[EdgeType, Tensor]
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """Return (commit logits [n_commits], node logits per type for file/function nodes),
        each the mean of the members' logits."""
        commit, nodes = self.forward_members(x_dict, edge_index_dict)
        return commit.mean(0), {k: v.mean(0) for k, v in nodes.items()}


def _block_diag(linears: list[nn.Linear], out: nn.Linear) -> None:
    """`out` computes every member linear side by side on the concatenated inputs."""
    out.weight.copy_(torch.block_diag(*[m.weight for m in linears]))
    if out.bias is not None:
        out.bias.copy_(torch.cat([m.bias for m in linears]))


def _stacked(linears: list[nn.Linear], out: nn.Linear) -> None:
    """`out` computes every member linear on the same (shared) input."""
    out.weight.copy_(torch.cat([m.weight for m in linears]))
    out.bias.copy_(torch.cat([m.bias for m in linears]))


@torch.no_grad()
def fuse(model: RiskGNN) -> RiskGNN:
    """One network equal to the ensemble's mean, for inference: the members side by side in
    one `RiskNet` of width members x hidden with block-diagonal weights, so a score costs one
    member's framework overhead instead of `members` of them (the same logits, to float
    rounding). Inputs are shared, each layer's channels stay within their member (SAGE's mean
    aggregation and ReLU act per channel), and the linear heads average the members."""
    if len(model.members) == 1:
        return model
    nets: list[RiskNet] = list(model.members)  # type: ignore[arg-type]
    m, h = len(nets), model.hidden
    fused = RiskGNN(m * h, len(nets[0].convs), model.dropout, model.use_edges, members=1)
    for k in NODE_DIMS:
        getattr(fused, f"mean_{k}").copy_(getattr(model, f"mean_{k}"))
        getattr(fused, f"std_{k}").copy_(getattr(model, f"std_{k}"))
    fused.set_prior(model.prior_w, float(model.prior_b))
    one: RiskNet = fused.members[0]  # type: ignore[assignment]
    for k in NODE_DIMS:
        _stacked([n.inp[k] for n in nets], one.inp[k])  # type: ignore[misc, arg-type]
    for layer in range(len(one.convs)):
        for k in NODE_DIMS:
            _block_diag(
                [n.self_lins[layer][k] for n in nets],  # type: ignore[index]
                one.self_lins[layer][k],  # type: ignore[index]
            )
        for et in EDGE_TYPES:
            convs: list[Any] = [n.convs[layer].convs[et] for n in nets]  # type: ignore[index]
            target: Any = one.convs[layer].convs[et]  # type: ignore[index]
            _block_diag([c.lin_l for c in convs], target.lin_l)
    dc = NODE_DIMS["commit"]
    w = [n.commit_head.weight[0] for n in nets]
    one.commit_head.weight.copy_(
        torch.cat([x[:h] / m for x in w] + [torch.stack([x[h:] for x in w]).mean(0)])[None, :]
    )
    one.commit_head.bias.copy_(torch.stack([n.commit_head.bias for n in nets]).mean(0))
    assert one.commit_head.weight.shape[1] == m * h + dc
    w = [n.node_head.weight[0] for n in nets]
    one.node_head.weight.copy_(torch.cat([x[:h] / m for x in w] + [x[h:] / m for x in w])[None, :])
    one.node_head.bias.copy_(torch.stack([n.node_head.bias for n in nets]).mean(0))
    fused.eval()
    return fused


def _single_net_keys(
    module: nn.Module, state_dict: dict[str, Any], prefix: str, *args: Any, **kwargs: Any
) -> None:
    """Map a single network's keys (`inp.…`, saved before ensembles) to `members.0.…`; a
    model saved before the size prior existed gets none (zero weights)."""
    if any(k.startswith(prefix) for k in state_dict) and f"{prefix}prior_w" not in state_dict:
        state_dict[f"{prefix}prior_w"] = torch.zeros(NODE_DIMS["commit"])
        state_dict[f"{prefix}prior_b"] = torch.zeros(())
    for key in [k for k in state_dict if k.startswith(prefix)]:
        if key[len(prefix) :].split(".", 1)[0] in _NET_PARTS:
            state_dict[f"{prefix}members.0.{key[len(prefix) :]}"] = state_dict.pop(key)
