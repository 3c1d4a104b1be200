"""Concatenate chosen backbone stages into one feature map."""
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class ConcatStages(BaseModule):
    """Select backbone outputs and concatenate them along channels.

    Maps whose size differs from the first selected one are resized to it
    (bilinear), so any backbone works; with the reference ResNet-50 (stage 4
    dilated) stages 3 and 4 already share stride 16.

    Args:
        in_indices (Sequence[int]): Positions in the backbone's output tuple
            to keep. Defaults to (0, 1): both outputs of a backbone built
            with ``out_indices=(2, 3)``.
        align_corners (bool): ``align_corners`` of the resize.
            Defaults to False.
    """

    def __init__(self,
                 in_indices: Sequence[int] = (0, 1),
                 align_corners: bool = False) -> None:
        super().__init__()
        if len(in_indices) == 0:
            raise ValueError('ConcatStages needs at least one in_indices.')
        self.in_indices = tuple(in_indices)
        self.align_corners = align_corners

    def forward(self, inputs: Sequence[Tensor]) -> Tuple[Tensor]:
        """Concatenate the selected maps.

        Args:
            inputs (Sequence[Tensor[N, C_i, H_i, W_i]]): Backbone outputs.

        Returns:
            tuple[Tensor[N, sum C_i, H_0, W_0]]: One concatenated map.
        """
        if isinstance(inputs, Tensor):
            inputs = (inputs, )
        missing = [i for i in self.in_indices
                   if not -len(inputs) <= i < len(inputs)]
        if missing:
            raise IndexError(
                f'ConcatStages(in_indices={self.in_indices}) got '
                f'{len(inputs)} backbone outputs, so indices {missing} do '
                'not exist. Make the backbone return those stages (e.g. '
                'out_indices=(2, 3) for ResNet) or change in_indices.')
        feats = [inputs[i] for i in self.in_indices]
        size = feats[0].shape[2:]
        feats = [
            f if f.shape[2:] == size else F.interpolate(
                f, size=size, mode='bilinear',
                align_corners=self.align_corners) for f in feats
        ]
        return (torch.cat(feats, dim=1), )
