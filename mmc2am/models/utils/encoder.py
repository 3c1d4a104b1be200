"""The encoder shared by mmc2am's models: backbone, then an optional neck."""
from typing import Optional

import torch.nn as nn
from torch import Tensor


def encode(backbone: nn.Module, neck: Optional[nn.Module],
           inputs: Tensor) -> Tensor:
    """Run ``backbone`` (and ``neck``) and return one feature map.

    Args:
        backbone (nn.Module): Any mmseg / mmdet backbone.
        neck (nn.Module, optional): E.g. :class:`ConcatStages`.
        inputs (Tensor[N, 3, H, W]): Normalised images.

    Returns:
        Tensor[N, C, h, w]: The neck's (or, without a neck, the backbone's)
        last output.
    """
    feats = backbone(inputs)
    if neck is not None:
        feats = neck(feats)
    if isinstance(feats, (list, tuple)):
        feats = feats[-1]
    return feats
