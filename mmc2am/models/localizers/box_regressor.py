"""A PSOL-style single-box regressor, as an mmdet detector."""
from typing import Dict, List, Tuple

import torch
from mmdet.models.detectors import BaseDetector
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.utils import ConfigType, OptConfigType, OptMultiConfig
from mmengine.structures import InstanceData
from torch import Tensor, nn


@MODELS.register_module()
class BoxRegressor(BaseDetector):
    """One class-agnostic box per image, regressed from pooled features
    (PSOL, Zhang et al., CVPR 2020), trained on pseudo boxes.

    Call flow::

        inputs --backbone--> feats (--neck-->) last map [N, C, h, w]
          --global average pooling--> [N, C] --dropout, fc--> [N, 4]
          --sigmoid--> (cx, cy, w, h), normalised by the input's img_shape
        loss:    target = each image's largest ground-truth box, normalised;
                 loss_bbox (smooth L1 on cx, cy, w, h) + loss_iou (GIoU on
                 the normalised corners); images without a box are left out
        predict: corners in input pixels, clipped to the input, divided by
                 scale_factor (rescale=True) -> pred_instances with one box,
                 score 1 and label 0

    Args:
        backbone (dict): Any mmdet backbone config.
        in_channels (int): Channels of the pooled map.
        neck (dict, optional): A neck; its last output is pooled.
            Defaults to None (the backbone's last output).
        dropout (float): Dropout before the fc layer. Defaults to 0.
        loss_bbox (dict): Loss on normalised ``(cx, cy, w, h)``.
            Defaults to ``dict(type='SmoothL1Loss', beta=0.1,
            loss_weight=1.0)``.
        loss_iou (dict, optional): Loss on normalised corners.
            Defaults to ``dict(type='GIoULoss', loss_weight=1.0)``; None
            leaves it out.
        data_preprocessor (dict, optional): E.g. ``DetDataPreprocessor``.
            Defaults to None.
        init_cfg (dict | list[dict], optional): Initialization config.
            Defaults to None.
    """

    def __init__(self,
                 backbone: ConfigType,
                 in_channels: int,
                 neck: OptConfigType = None,
                 dropout: float = 0.0,
                 loss_bbox: ConfigType = dict(
                     type='SmoothL1Loss', beta=0.1, loss_weight=1.0),
                 loss_iou: OptConfigType = dict(
                     type='GIoULoss', loss_weight=1.0),
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        if neck is not None:
            self.neck = MODELS.build(neck)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(in_channels, 4)
        self.loss_bbox = MODELS.build(loss_bbox)
        self.loss_iou = MODELS.build(loss_iou) if loss_iou else None

    def extract_feat(self, batch_inputs: Tensor) -> Tensor:
        """Backbone (and neck) features.

        Args:
            batch_inputs (Tensor[N, 3, H, W]): Normalised images.

        Returns:
            Tensor[N, C, h, w]: The last feature map.
        """
        feats = self.backbone(batch_inputs)
        if self.with_neck:
            feats = self.neck(feats)
        return feats[-1] if isinstance(feats, (list, tuple)) else feats

    def _forward(self,
                 batch_inputs: Tensor,
                 batch_data_samples: SampleList = None) -> Tensor:
        """Normalised boxes.

        Returns:
            Tensor[N, 4]: ``(cx, cy, w, h)`` in ``[0, 1]``, relative to
            each input's width and height.
        """
        pooled = self.extract_feat(batch_inputs).mean(dim=(2, 3))
        return self.fc(self.dropout(pooled)).sigmoid()

    def loss(self, batch_inputs: Tensor,
             batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """Regression losses against each image's largest box.

        Returns:
            dict[str, Tensor]: ``loss_bbox`` and (with ``loss_iou``)
            ``loss_iou``.
        """
        pred = self._forward(batch_inputs)
        target, valid = self._targets(batch_data_samples, pred)
        losses = dict(
            loss_bbox=self.loss_bbox(
                pred,
                target,
                weight=valid[:, None].expand_as(pred),
                avg_factor=max(float(valid.sum()), 1.0) * 4))
        if self.loss_iou is not None:
            losses['loss_iou'] = self.loss_iou(
                _corners(pred),
                _corners(target),
                weight=valid,
                avg_factor=max(float(valid.sum()), 1.0))
        return losses

    @staticmethod
    def _targets(samples: SampleList, pred: Tensor) -> Tuple[Tensor, Tensor]:
        """Normalised ``(cx, cy, w, h)`` of each image's largest box
        (Tensor[N, 4]) and whether it has one (Tensor[N])."""
        target = torch.zeros_like(pred)
        valid = torch.zeros(len(samples), device=pred.device)
        for index, sample in enumerate(samples):
            boxes = sample.gt_instances.bboxes
            boxes = getattr(boxes, 'tensor', boxes).to(pred)
            if len(boxes) == 0:
                continue
            height, width = sample.metainfo['img_shape'][:2]
            areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
            x0, y0, x1, y1 = boxes[int(areas.argmax())]
            target[index] = torch.stack([(x0 + x1) / 2 / width,
                                         (y0 + y1) / 2 / height,
                                         (x1 - x0) / width,
                                         (y1 - y0) / height])
            valid[index] = 1
        return target, valid

    def predict(self,
                batch_inputs: Tensor,
                batch_data_samples: SampleList,
                rescale: bool = True) -> SampleList:
        """One box per image, in the original image with ``rescale``.

        Returns:
            list[DetDataSample]: ``pred_instances`` with ``bboxes``
            (Tensor[1, 4]), ``scores`` (Tensor[1], 1.0: a regressor has no
            confidence) and ``labels`` (Tensor[1], 0).
        """
        corners = _corners(self._forward(batch_inputs)).clamp(0, 1)
        results: List[InstanceData] = []
        for box, sample in zip(corners, batch_data_samples):
            height, width = sample.metainfo['img_shape'][:2]
            box = box * box.new_tensor([width, height, width, height])
            if rescale and 'scale_factor' in sample.metainfo:
                sw, sh = sample.metainfo['scale_factor'][:2]
                box = box / box.new_tensor([sw, sh, sw, sh])
            results.append(
                InstanceData(
                    bboxes=box[None],
                    scores=box.new_ones(1),
                    labels=torch.zeros(1, dtype=torch.long,
                                       device=box.device)))
        return self.add_pred_to_datasample(batch_data_samples, results)


def _corners(boxes: Tensor) -> Tensor:
    """``(cx, cy, w, h)`` to ``(x0, y0, x1, y1)`` (Tensor[N, 4])."""
    centre, size = boxes[:, :2], boxes[:, 2:]
    return torch.cat([centre - size / 2, centre + size / 2], dim=1)
