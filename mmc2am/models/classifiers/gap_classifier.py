"""An image classifier whose 1x1 classifier also gives class activation maps.
"""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import ConfigType, OptConfigType, OptMultiConfig, SampleList
from torch import Tensor

from ..utils.encoder import encode


@MODELS.register_module()
class GAPClassifier(BaseModel):
    """Backbone, global average pooling and a 1x1 classifier.

    Call flow::

        inputs --backbone(+neck)--> Z [N, C, h, w]
          --1x1 conv--> CAMs [N, K, h, w] --mean over h, w--> logits [N, K]
        loss: cross-entropy (single-label) or BCE (multi-label)

    Labels come from each sample's metainfo ``gt_label``: an int class index
    (single-label), or a sequence of present class indices (multi-label).
    Because pooling and the 1x1 classifier commute, :meth:`cams` gives class
    activation maps for free. The same model pre-trains the demo's backbone
    (single-label scene classes) and produces the WSSS class CAMs
    (multi-label image labels).

    Args:
        backbone (dict): Any mmseg or mmdet backbone config.
        in_channels (int): Channels of ``Z``.
        num_classes (int): Number of classes ``K``.
        multi_label (bool): BCE over present classes instead of
            cross-entropy. Defaults to False.
        neck (dict, optional): E.g. :class:`ConcatStages`. Defaults to None
            (last backbone output).
        dropout (float): Dropout on ``Z`` before the classifier.
            Defaults to 0.
        data_preprocessor (dict, optional): E.g. ``SegDataPreProcessor``.
        init_cfg (dict | list[dict], optional): Initialization config.
    """

    def __init__(self,
                 backbone: ConfigType,
                 in_channels: int,
                 num_classes: int,
                 multi_label: bool = False,
                 neck: OptConfigType = None,
                 dropout: float = 0.0,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck) if neck is not None else None
        self.num_classes = num_classes
        self.multi_label = multi_label
        self.dropout = nn.Dropout2d(dropout) if dropout > 0 else nn.Identity()
        self.classifier = nn.Conv2d(in_channels, num_classes, 1, bias=False)

    def extract_feat(self, inputs: Tensor) -> Tensor:
        """Backbone (and neck): Tensor[N, 3, H, W] -> Tensor[N, C, h, w]."""
        return encode(self.backbone, self.neck, inputs)

    def cams(self, inputs: Tensor) -> Tensor:
        """Class activation maps Tensor[N, K, h, w] (before any ReLU)."""
        return self.classifier(self.extract_feat(inputs))

    def forward(self,
                inputs: Tensor,
                data_samples: Optional[SampleList] = None,
                mode: str = 'tensor') -> Union[Dict[str, Tensor], SampleList,
                                               Tensor]:
        """'loss', 'predict' (scores in ``pred_score``) or 'tensor' (logits).
        """
        if mode == 'tensor':
            return self._logits(inputs)
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        raise ValueError(f'GAPClassifier.forward got mode="{mode}"; use '
                         '"loss", "predict" or "tensor".')

    def _logits(self, inputs: Tensor) -> Tensor:
        feats = self.dropout(self.extract_feat(inputs))
        return self.classifier(feats.mean(dim=(2, 3), keepdim=True)).flatten(1)

    def loss(self, inputs: Tensor,
             data_samples: SampleList) -> Dict[str, Tensor]:
        """Classification loss and accuracy of a batch."""
        logits = self._logits(inputs)
        target = self._targets(data_samples, logits.device)
        if self.multi_label:
            loss = F.binary_cross_entropy_with_logits(logits, target)
            acc = ((logits > 0).float() == target).float().mean()
        else:
            loss = F.cross_entropy(logits, target)
            acc = (logits.argmax(1) == target).float().mean()
        return dict(loss_cls=loss, acc=acc.detach())

    def predict(self,
                inputs: Tensor,
                data_samples: Optional[SampleList] = None) -> SampleList:
        """Class scores in each sample's ``pred_score`` (Tensor[K])."""
        logits = self._logits(inputs)
        scores = logits.sigmoid() if self.multi_label else logits.softmax(1)
        if data_samples is None:
            data_samples = [SegDataSample() for _ in range(len(inputs))]
        for sample, score in zip(data_samples, scores):
            sample.set_metainfo(dict(pred_score=score))
        return data_samples

    def _targets(self, data_samples: SampleList,
                 device: torch.device) -> Tensor:
        labels: List = []
        for sample in data_samples:
            if 'gt_label' not in sample:
                raise KeyError(
                    'GAPClassifier needs "gt_label" in every sample\'s '
                    f'metainfo (img_path: {sample.get("img_path")}); add it '
                    "to PackSegInputs' meta_keys.")
            labels.append(sample.gt_label)
        if not self.multi_label:
            return torch.as_tensor([int(x) for x in labels], device=device)
        target = torch.zeros(len(labels), self.num_classes, device=device)
        for row, present in enumerate(labels):
            index = torch.as_tensor(_as_list(present), dtype=torch.long)
            target[row, index.to(device)] = 1.0
        return target


def _as_list(labels: Union[int, Sequence[int], Tensor]) -> List[int]:
    if isinstance(labels, Tensor):
        return labels.flatten().tolist()
    if isinstance(labels, int):
        return [labels]
    return [int(x) for x in labels]
