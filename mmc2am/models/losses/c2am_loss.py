"""The cross-image foreground-background contrastive loss of C²AM."""
from typing import Dict, Optional

import torch
import torch.distributed as torch_dist
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import get_rank, get_world_size, is_distributed
from mmseg.registry import MODELS
from torch import Tensor

SIM_MIN = 0.0005
SIM_MAX = 0.9995


def pairwise_cosine(a: Tensor, b: Tensor) -> Tensor:
    """Cosine similarity of every row of ``a`` with every row of ``b``.

    Args:
        a (Tensor[N, C]): First set of embeddings.
        b (Tensor[M, C]): Second set of embeddings.

    Returns:
        Tensor[N, M]: Similarities clamped to ``[0.0005, 0.9995]`` so that
        both ``log(s)`` and ``log(1 - s)`` stay finite.
    """
    sim = F.normalize(a, dim=1) @ F.normalize(b, dim=1).t()
    return sim.clamp(SIM_MIN, SIM_MAX)


def rank_weights(sim: Tensor, alpha: float) -> Tensor:
    """Rank-based weights of positive pairs.

    ``w[i, j] = exp(-alpha * (r[i, j] - 1))`` where ``r[i, j]`` is the 0-based
    position of ``sim[i, j]`` when row ``i`` is sorted in descending order.
    Ties keep index order (stable sort), so the self-pair of a clamped row
    sits before a duplicate that follows it.

    Args:
        sim (Tensor[N, N]): Similarity matrix.
        alpha (float): Decay of the weight with rank.

    Returns:
        Tensor[N, N]: The weights (no gradient flows through the ranks).
    """
    order = sim.detach().sort(dim=1, descending=True, stable=True).indices
    ranks = order.argsort(dim=1)
    return torch.exp(-alpha * (ranks.to(sim.dtype) - 1))


def gather_keep_local_grad(x: Tensor) -> Tensor:
    """Concatenate ``x`` from every rank; only the local part has gradients.

    Ranks may hold different batch sizes.

    Args:
        x (Tensor[n_r, C]): This rank's rows.

    Returns:
        Tensor[sum_r n_r, C]: All ranks' rows in rank order; the rows of
        this rank are ``x`` itself (with its graph), the others constants.
    """
    world, rank = get_world_size(), get_rank()
    sizes = torch.tensor([x.shape[0]], device=x.device)
    all_sizes = [torch.zeros_like(sizes) for _ in range(world)]
    torch_dist.all_gather(all_sizes, sizes)
    all_sizes = [int(n) for n in all_sizes]
    padded = x.new_zeros((max(all_sizes), ) + x.shape[1:])
    padded[:x.shape[0]] = x.detach()
    parts = [torch.empty_like(padded) for _ in range(world)]
    torch_dist.all_gather(parts, padded)
    parts = [part[:n] for part, n in zip(parts, all_sizes)]
    parts[rank] = x
    return torch.cat(parts)


@MODELS.register_module()
class C2AMLoss(nn.Module):
    """Foreground-background contrast over all pairs of images in a batch.

    With ``s`` the clamped cosine similarity (see :func:`pairwise_cosine`):

    - ``loss_neg = mean_ij(-log(1 - s(fg[i], bg[j])))``
    - ``loss_pos_fg = mean_ij(w_ij * -log(s(fg[i], fg[j])))`` with rank
      weights ``w`` (see :func:`rank_weights`), and ``loss_pos_bg`` alike.

    The three terms have equal weight; everything is computed in float32
    whatever the input dtype or autocast context.

    Args:
        alpha (float): Rank-weight decay of both positive terms.
            Defaults to 0.25.
        alpha_fg (float, optional): Decay for the foreground term.
            Defaults to None (use ``alpha``).
        alpha_bg (float, optional): Decay for the background term.
            Defaults to None (use ``alpha``).
        loss_weight (float): Factor applied to all three terms.
            Defaults to 1.0.
        gather_across_ranks (bool, optional): Contrast the whole global batch
            under distributed training: embeddings of all ranks are gathered
            before the similarities (the reference instead contrasts each
            device's slice alone). Defaults to None: on whenever
            ``world_size > 1``.

    Distributed scaling: with gathering, every rank computes the same loss
    ``L`` over the global batch, and gradients reach only its own
    embeddings, giving ``dL/dx_r`` for its rows ``x_r``. DDP then *averages*
    parameter gradients over the ``W`` ranks, which would yield
    ``(1/W) dL/dθ``. So the backward pass is scaled by ``W`` (the returned
    values are unchanged, ``L``): embedding gradients are ``W dL/dx_r``, and
    after DDP's averaging the parameter gradients equal those of one process
    computing ``L`` over the whole batch.
    """

    def __init__(self,
                 alpha: float = 0.25,
                 alpha_fg: Optional[float] = None,
                 alpha_bg: Optional[float] = None,
                 loss_weight: float = 1.0,
                 gather_across_ranks: Optional[bool] = None) -> None:
        super().__init__()
        self.gather_across_ranks = gather_across_ranks
        self.alpha_fg = alpha if alpha_fg is None else alpha_fg
        self.alpha_bg = alpha if alpha_bg is None else alpha_bg
        self.loss_weight = loss_weight

    def forward(self, fg: Tensor, bg: Tensor) -> Dict[str, Tensor]:
        """Compute the three loss terms.

        Args:
            fg (Tensor[N, C]): Foreground embeddings.
            bg (Tensor[N, C]): Background embeddings.

        Returns:
            dict[str, Tensor]: ``loss_pos_bg``, ``loss_neg`` and
            ``loss_pos_fg``, scalar float32 tensors.
        """
        if fg.dim() != 2 or fg.shape != bg.shape:
            raise ValueError(
                'C2AMLoss expects foreground and background embeddings of '
                f'the same shape [N, C]; got fg {tuple(fg.shape)} and bg '
                f'{tuple(bg.shape)}.')
        world = get_world_size() if is_distributed() else 1
        gather = world > 1 and self.gather_across_ranks is not False
        if gather:
            fg, bg = gather_keep_local_grad(fg), gather_keep_local_grad(bg)
        if fg.shape[0] < 2:
            raise ValueError(
                'C2AMLoss contrasts images against each other and needs at '
                f'least 2 per batch; got {fg.shape[0]}. Raise '
                'train_dataloader.batch_size (the reference uses >= 32) and '
                'set drop_last=True so that no batch of one is left over.')
        with torch.autocast(device_type=fg.device.type, enabled=False):
            fg, bg = fg.float(), bg.float()
            loss_neg = -torch.log(1 - pairwise_cosine(fg, bg)).mean()
            loss_pos_fg = self._positive(fg, self.alpha_fg)
            loss_pos_bg = self._positive(bg, self.alpha_bg)
        scale = world if gather else 1
        return {
            name: _scale_grad(self.loss_weight * value, scale)
            for name, value in (('loss_pos_bg', loss_pos_bg),
                                ('loss_neg', loss_neg), ('loss_pos_fg',
                                                         loss_pos_fg))
        }

    @staticmethod
    def _positive(emb: Tensor, alpha: float) -> Tensor:
        sim = pairwise_cosine(emb, emb)
        return (rank_weights(sim, alpha) * -torch.log(sim)).mean()


def _scale_grad(value: Tensor, scale: float) -> Tensor:
    """``value`` unchanged, its gradient multiplied by ``scale``."""
    if scale == 1:
        return value
    return value * scale - value.detach() * (scale - 1)
