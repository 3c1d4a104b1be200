"""Statistics that decide whether a class-agnostic map must be inverted.

The C²AM loss is symmetric in foreground and background, so a trained map may
light up the background. Objects rarely touch every image border, so a map
that is higher on the border than in the centre is inverted.
"""
from typing import Tuple

import torch
from torch import Tensor


def border_centre_sums(maps: Tensor,
                       border: int = 1) -> Tuple[Tensor, Tensor, int, int]:
    """Sum a batch of maps over their border ring and their central region.

    The border is the outer ring ``border`` pixels wide; the centre is the
    middle half of each side (``[H/4, 3H/4) x [W/4, 3W/4)``).

    Args:
        maps (Tensor[N, 1, H, W]): Maps in ``[0, 1]``.
        border (int): Width of the ring. Defaults to 1.

    Returns:
        tuple: ``(border_sum, centre_sum, border_count, centre_count)``; the
        sums are 0-dim float tensors on the maps' device (no host sync).
    """
    if maps.dim() != 4 or maps.shape[1] != 1:
        raise ValueError('border_centre_sums expects maps of shape '
                         f'[N, 1, H, W]; got {tuple(maps.shape)}.')
    n, _, h, w = maps.shape
    if h < 2 * border + 1 or w < 2 * border + 1:
        raise ValueError(f'maps of size {h}x{w} are too small for a border '
                         f'ring {border} pixels wide.')
    ring = torch.ones(h, w, dtype=torch.bool, device=maps.device)
    ring[border:h - border, border:w - border] = False
    maps = maps.detach().float()
    centre = maps[..., h // 4:h - h // 4, w // 4:w - w // 4]
    border_sum = maps[..., ring].sum()
    return border_sum, centre.sum(), n * int(ring.sum()), centre.numel()


def reference_needs_flip(maps: Tensor) -> bool:
    """The reference rule: one image's binarised 1-pixel border.

    The first map of the batch is binarised at 0.5 and its four edges are
    averaged (each edge's mean counts once); the map is inverted when that
    mean exceeds 0.5.

    Args:
        maps (Tensor[N, 1, H, W]): Maps in ``[0, 1]``.

    Returns:
        bool: Whether the maps must be inverted.
    """
    binary = (maps[0, 0].detach() > 0.5).float()
    edges = (binary[0, :].mean() + binary[:, 0].mean() +
             binary[-1, :].mean() + binary[:, -1].mean()) / 4
    return bool(edges > 0.5)
