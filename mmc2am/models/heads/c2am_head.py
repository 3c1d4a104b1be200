"""The C²AM disentangler head: one activation map and two pooled embeddings."""
from typing import Dict

import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptMultiConfig
from torch import Tensor


@MODELS.register_module()
class C2AMHead(BaseModule):
    """Disentangle features into foreground and background.

    ``logits = BN(conv3x3(Z))`` (conv without bias, ``BatchNorm2d(1)``),
    ``P = sigmoid(logits)``, and with ``HW = H * W``::

        fg[i] = (1 / HW) * sum_hw P[i, hw] * Z[i, :, hw]
        bg[i] = (1 / HW) * sum_hw (1 - P[i, hw]) * Z[i, :, hw]

    Args:
        in_channels (int): Channels ``C`` of the feature map ``Z``
            (3072 for ResNet-50 stages 3 + 4).
        kernel_size (int): Size of the map convolution. Defaults to 3.
        norm_cfg (dict): Norm layer after the convolution. Defaults to
            ``dict(type='BN', requires_grad=True)``; ``requires_grad=False``
            reproduces the reference optimizer, which never updates it.
        init_cfg (dict | list[dict], optional): Initialization config.
            Defaults to None (PyTorch's default initialisation, as in the
            reference).
    """

    def __init__(self,
                 in_channels: int,
                 kernel_size: int = 3,
                 norm_cfg: ConfigType = dict(type='BN', requires_grad=True),
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.conv = nn.Conv2d(
            in_channels,
            1,
            kernel_size,
            padding=kernel_size // 2,
            bias=False)
        self.bn = build_norm_layer(norm_cfg, 1)[1]

    def forward(self, feats: Tensor) -> Dict[str, Tensor]:
        """Compute the map and the embeddings.

        Args:
            feats (Tensor[N, C, H, W]): Feature map ``Z``.

        Returns:
            dict[str, Tensor]: ``logits`` (Tensor[N, 1, H, W], pre-sigmoid),
            ``map`` (Tensor[N, 1, H, W], in ``[0, 1]``), ``fg`` and ``bg``
            (Tensor[N, C]).
        """
        if feats.dim() != 4 or feats.shape[1] != self.in_channels:
            raise ValueError(
                f'C2AMHead(in_channels={self.in_channels}) expects features '
                f'of shape [N, {self.in_channels}, H, W]; got '
                f'{tuple(feats.shape)}. Set the head\'s in_channels to the '
                'neck\'s output channels.')
        logits = self.bn(self.conv(feats))
        prob = logits.sigmoid()
        fg = (prob * feats).mean(dim=(2, 3))
        bg = ((1 - prob) * feats).mean(dim=(2, 3))
        return dict(logits=logits, map=prob, fg=fg, bg=bg)
