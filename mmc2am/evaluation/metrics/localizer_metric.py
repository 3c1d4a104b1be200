"""GT-known and Top-k Loc of a localizer's top box (mmdet side)."""
from typing import Dict, Optional, Sequence

import numpy as np
from mmdet.registry import METRICS
from mmengine.structures import BaseDataElement

from mmc2am.functional.boxes import box_iou
from .wsol_metric import WSOLMetric, _numpy


@METRICS.register_module()
class LocalizerMetric(WSOLMetric):
    """WSOL scores of a detector's or regressor's top box.

    Per image, the predicted box of highest score (``pred_instances``) is
    compared with the ground-truth boxes (``gt_instances``) by
    :func:`box_iou` (the reference's inclusive-corner IoU, as
    :class:`WSOLMetric`), in the original image: mmdet models give
    predictions there (``rescale=True``), and the ground truth is there
    when the test pipeline loads it after its geometric transforms
    (``LoadAnnotations`` after ``Resize``, as mmdet's test pipelines do).
    An image is localised when that IoU is at least the IoU threshold; an
    image without prediction or without ground-truth box is not.

    Reported (percentages; prefix ``loc/``):

    - ``GT-known``: at ``iou_threshold``;
    - ``GT-known@<iou>`` for each of ``iou_thresholds`` and their mean
      ``GT-known mean`` (MaxBoxAccV2's IoUs; a localizer has no map
      threshold to sweep);
    - ``mIoU``: the mean best IoU;
    - ``Top-1 Loc``, ``Top-5 Loc``, ``Top-1 Cls``, ``Top-5 Cls`` with class
      predictions, read as :class:`WSOLMetric` reads them (a
      ``predictions`` file, or ``pred_score`` / ``topk_labels`` of the
      samples) against ``gt_label`` (list it in ``PackDetInputs``'s
      ``meta_keys``);
    - ``num_images``, ``num_without_box``, ``num_without_prediction``.

    Args:
        iou_threshold (float): IoU of GT-known and Top-k Loc.
            Defaults to 0.5.
        iou_thresholds (Sequence[float]): IoUs of ``GT-known@<iou>``.
            Defaults to (0.3, 0.5, 0.7).
        predictions (str, optional): Class predictions file (see
            :class:`WSOLMetric`). Defaults to None.
        collect_device (str): 'cpu' or 'gpu'. Defaults to 'cpu'.
        prefix (str, optional): Defaults to None: ``'loc'``.
    """

    default_prefix = 'loc'

    def __init__(self,
                 iou_threshold: float = 0.5,
                 iou_thresholds: Sequence[float] = (0.3, 0.5, 0.7),
                 predictions: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(
            thresholds=[0.5],
            iou_threshold=iou_threshold,
            v2_iou_thresholds=iou_thresholds,
            predictions=predictions,
            pxap=False,
            curve=False,
            collect_device=collect_device,
            prefix=prefix)

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Best IoU of each image's top box, and its class hits.

        Args:
            data_batch (dict): Unused.
            data_samples (Sequence[dict]): ``DetDataSample`` outputs.
        """
        for sample in data_samples:
            if isinstance(sample, BaseDataElement):
                sample = sample.to_dict()
            gt = _gt_boxes(sample)
            top = _top_box(sample)
            best = 0.0
            if top is not None and len(gt):
                best = float(box_iou(top, gt).max())
            self.results.append(
                dict(
                    img_path=sample.get('img_path'),
                    has_box=len(gt) > 0,
                    has_prediction=top is not None,
                    iou=best,
                    cls=self._cls_hits(sample)))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Reduce the per-image IoUs and class hits (see the class doc)."""
        ious = np.array([r['iou'] for r in results])
        hits = ious >= self.iou_threshold
        metrics = {'GT-known': float(hits.mean() * 100)}
        per_iou = [
            float((ious >= t).mean() * 100) for t in self.v2_iou_thresholds
        ]
        for iou, acc in zip(self.v2_iou_thresholds, per_iou):
            metrics[f'GT-known@{iou:g}'] = acc
        metrics['GT-known mean'] = float(np.mean(per_iou))
        metrics['mIoU'] = float(ious.mean() * 100)
        cls = self._stack_cls(results)
        if cls is not None:
            for name, col in (('Top-1', 0), ('Top-5', 1)):
                metrics[f'{name} Loc'] = float(
                    (hits & cls[:, col]).mean() * 100)
                metrics[f'{name} Cls'] = float(cls[:, col].mean() * 100)
        metrics.update(self._count_images(results))
        metrics['num_without_prediction'] = sum(not r['has_prediction']
                                                for r in results)
        return metrics


def _gt_boxes(sample: dict) -> np.ndarray:
    """Ground-truth boxes of a sample (np.ndarray[K, 4])."""
    gt = sample.get('gt_instances', {}).get('bboxes')
    if gt is None:
        raise KeyError(
            f'LocalizerMetric: the sample of {sample.get("img_path")} has no '
            "gt_instances.bboxes; load the boxes in the test pipeline "
            "(mmdet's LoadAnnotations with_bbox=True, after Resize).")
    return _numpy(gt).astype(np.float64).reshape(-1, 4)


def _top_box(sample: dict) -> Optional[np.ndarray]:
    """The predicted box of highest score (np.ndarray[1, 4]), or None."""
    pred = sample.get('pred_instances', {})
    if pred.get('bboxes') is None or len(pred['bboxes']) == 0:
        return None
    boxes = _numpy(pred['bboxes']).astype(np.float64).reshape(-1, 4)
    scores = pred.get('scores')
    best = 0 if scores is None else int(np.argmax(_numpy(scores)))
    return boxes[best:best + 1]
