"""Weakly supervised object localisation metrics of class-agnostic maps."""
import json
import logging
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmengine.structures import BaseDataElement
from mmseg.registry import METRICS

from mmc2am.functional.boxes import box_iou, maps_to_box_sets, normalize_map


@METRICS.register_module()
class WSOLMetric(BaseMetric):
    """GT-known Loc, MaxBoxAcc, MaxBoxAccV2, Top-1/Top-5 Loc and PxAP of
    object maps.

    Boxes come from :func:`maps_to_box_sets` (the reference procedure of
    wsolevaluation, method.md section 5) over the threshold grid, and are
    compared with the ground-truth boxes by :func:`box_iou` (the reference's
    inclusive-corner IoU). An image is localised at ``tau`` when its box has
    IoU >= ``iou_threshold`` with any ground-truth box; in multi-contour mode
    when any of its boxes does.

    Reported (percentages; the prefix ``wsol/`` is added by mmengine):

    - ``MaxBoxAcc``: the best GT-known Loc over the grid (IoU 0.5, largest
      contour), and ``best_threshold``, the first ``tau`` reaching it. Run
      this metric on a held-out split (e.g. val) and pass that
      ``best_threshold`` as ``threshold=`` on the test split.
    - ``MaxBoxAccV2``: mean over ``v2_iou_thresholds`` of the best accuracy
      over the grid with every contour's box; each also as
      ``MaxBoxAccV2@<iou>``.
    - ``GT-known curve``: GT-known Loc at each grid threshold (a list; only
      with ``curve=True``).
    - ``GT-known``, ``Top-1 Loc``, ``Top-5 Loc`` at the given ``threshold``
      (the protocol: the threshold was chosen on another split).
    - ``GT-known@test-tuned``, ``Top-1 Loc@test-tuned``,
      ``Top-5 Loc@test-tuned`` and ``threshold@test-tuned`` with
      ``choose_on_test=True``: the reference's practice of choosing ``tau``
      on the evaluated split itself (the one of ``MaxBoxAcc``).
    - ``Top-1 Cls``, ``Top-5 Cls`` whenever class predictions are given.
      Top-k Loc needs both: the box is right and the class is in the top k.
    - ``PxAP``: pixel average precision of the maps against the foreground
      masks (area under the precision-recall curve over ``pxap_bins`` map
      thresholds, wsolevaluation's computation), over the images that have
      ``gt_sem_seg``.
    - ``num_images``, ``num_without_box``.

    Inputs, per sample (dicts, as mmengine's evaluator passes them, or
    data samples):

    - ``seg_logits.data`` (Tensor[1, H, W]): the object map (polarity
      applied); it is min-max normalised here.
    - ``gt_bboxes`` (np.ndarray[K, 4], xyxy, in the map's frame; from the
      metainfo), or ``gt_instances.bboxes``. An image without a box counts
      as not localised at every threshold; how many there were is reported
      as ``num_without_box`` and logged with the first paths.
    - ``gt_sem_seg.data`` (Tensor[1, H, W], optional): 0 background, 255
      ignored, any other label foreground.
    - Class predictions (optional), with ``gt_label`` (int): ``pred_score``
      (Tensor[C], e.g. from :class:`GAPClassifier`) or ``topk_labels``
      (classes, best first; Top-5 uses the first five), or a
      ``predictions`` file instead.

    Memory: per image, the hit flags per threshold and, with masks, two
    ``int32`` histograms of ``pxap_bins + 2`` bins; never the maps.

    Example (the protocol: choose ``tau`` on val, apply it on test)::

        val_evaluator = dict(type='WSOLMetric')  # logs wsol/best_threshold
        test_evaluator = dict(type='WSOLMetric', threshold=0.23)
        # the reference's numbers: tau chosen on the test split itself
        test_evaluator = dict(type='WSOLMetric', choose_on_test=True)

    Args:
        thresholds (Sequence[float], optional): The threshold grid.
            Defaults to None: ``np.arange(0, 1, 0.01)``.
        threshold (float, optional): Threshold chosen on a held-out split;
            GT-known and Top-k Loc are reported at it. Defaults to None.
        choose_on_test (bool): Also report GT-known and Top-k Loc at the
            best grid threshold of this split (the reference's practice),
            labelled ``@test-tuned``. Defaults to False.
        iou_threshold (float): IoU of GT-known, MaxBoxAcc and Top-k Loc.
            Defaults to 0.5.
        v2_iou_thresholds (Sequence[float]): IoUs of MaxBoxAccV2.
            Defaults to (0.3, 0.5, 0.7).
        predictions (str, optional): File of top-k class predictions, used
            instead of the samples' fields: a json object mapping image path
            to a list of class indices (best first), or a text file with
            lines ``<image path> <class> <class> ...``. An image matches the
            entry of its full path, or else of its longest trailing part
            (``a/b.jpg`` matches ``/data/cub/images/a/b.jpg``).
            Defaults to None.
        pxap (bool): Compute PxAP for images with ``gt_sem_seg``.
            Defaults to True.
        pxap_bins (int): Map thresholds of the PxAP curve (the reference
            uses 1000). Defaults to 1000.
        curve (bool): Report the GT-known curve. Defaults to True.
        num_threads (int): Threads of the box extraction. Defaults to 1.
        collect_device (str): 'cpu' or 'gpu'. Defaults to 'cpu'.
        prefix (str, optional): Metric name prefix. Defaults to None:
            ``'wsol'``.
    """

    default_prefix = 'wsol'

    def __init__(self,
                 thresholds: Optional[Sequence[float]] = None,
                 threshold: Optional[float] = None,
                 choose_on_test: bool = False,
                 iou_threshold: float = 0.5,
                 v2_iou_thresholds: Sequence[float] = (0.3, 0.5, 0.7),
                 predictions: Optional[str] = None,
                 pxap: bool = True,
                 pxap_bins: int = 1000,
                 curve: bool = True,
                 num_threads: int = 1,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        grid = np.arange(0, 1, 0.01) if thresholds is None else thresholds
        self.thresholds = np.asarray(grid, dtype=np.float64).reshape(-1)
        if self.thresholds.size == 0 or not np.isfinite(self.thresholds).all():
            raise ValueError('WSOLMetric(thresholds=...) must be a non-empty '
                             f'list of finite numbers; got {thresholds}.')
        if threshold is not None and not np.isfinite(threshold):
            raise ValueError(f'WSOLMetric(threshold={threshold}) must be a '
                             'finite number (or None).')
        if len(v2_iou_thresholds) == 0:
            raise ValueError('WSOLMetric(v2_iou_thresholds=...) needs at '
                             'least one IoU.')
        if pxap_bins < 1:
            raise ValueError(f'WSOLMetric(pxap_bins={pxap_bins}) must be '
                             '>= 1.')
        self.threshold = threshold
        self.choose_on_test = choose_on_test
        self.iou_threshold = iou_threshold
        self.v2_iou_thresholds = tuple(v2_iou_thresholds)
        self.pxap = pxap
        self.pxap_edges = np.append(
            np.arange(0, 1, 1 / pxap_bins), [1.0, 2.0, 3.0])
        self.curve = curve
        self.num_threads = num_threads
        self.predictions_file = predictions
        self.predictions = (
            load_predictions(predictions) if predictions else None)
        self._warned_frame = False
        # The held-out threshold, if any, is swept after the grid.
        self._taus = self.thresholds if threshold is None else np.append(
            self.thresholds, threshold)

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Turn each map into hit flags per threshold (and PxAP histograms).

        Args:
            data_batch (dict): Unused.
            data_samples (Sequence[dict]): Model outputs with ground truth.
        """
        samples = [
            s.to_dict() if isinstance(s, BaseDataElement) else s
            for s in data_samples
        ]
        maps = [self._map(s) for s in samples]
        largest, every = maps_to_box_sets(maps, self._taus, self.num_threads)
        v2_ious = np.asarray(self.v2_iou_thresholds)[:, None]
        for sample, m, boxes, box_sets in zip(samples, maps, largest, every):
            gt = _gt_boxes(sample)
            self._check_frame(sample, gt, m.shape)
            best_v2 = _best_iou_of_sets(box_sets[:len(self.thresholds)], gt)
            result = dict(
                img_path=sample.get('img_path'),
                has_box=len(gt) > 0,
                hits=_best_iou(boxes, gt) >= self.iou_threshold,
                hits_v2=best_v2[None, :] >= v2_ious,
                cls=self._cls_hits(sample))
            if self.pxap and 'gt_sem_seg' in sample:
                result['hist'] = self._pixel_histograms(sample, m)
            self.results.append(result)

    def compute_metrics(self, results: list) -> Dict[str, object]:
        """Reduce the per-image flags to the metrics (see the class doc)."""
        n_grid = len(self.thresholds)
        hits = np.stack([r['hits'] for r in results])  # [N, T(+1)]
        curve = hits[:, :n_grid].mean(0) * 100
        best = int(np.argmax(curve))
        metrics: Dict[str, object] = dict(
            MaxBoxAcc=float(curve[best]),
            best_threshold=float(self.thresholds[best]))
        v2 = np.stack([r['hits_v2'] for r in results]).mean(0).max(1) * 100
        metrics['MaxBoxAccV2'] = float(v2.mean())
        for iou, acc in zip(self.v2_iou_thresholds, v2):
            metrics[f'MaxBoxAccV2@{iou:g}'] = float(acc)
        if self.curve:
            metrics['GT-known curve'] = [round(float(c), 4) for c in curve]

        cls = self._stack_cls(results)
        if cls is not None:
            metrics['Top-1 Cls'] = float(cls[:, 0].mean() * 100)
            metrics['Top-5 Cls'] = float(cls[:, 1].mean() * 100)
        chosen = []
        if self.threshold is not None:
            chosen.append(('', hits[:, -1], self.threshold))
        if self.choose_on_test:
            chosen.append(
                ('@test-tuned', hits[:, best], float(self.thresholds[best])))
        for suffix, hit, tau in chosen:
            metrics[f'threshold{suffix}'] = float(tau)
            metrics[f'GT-known{suffix}'] = float(hit.mean() * 100)
            if cls is not None:
                for k, col in (('Top-1', 0), ('Top-5', 1)):
                    metrics[f'{k} Loc{suffix}'] = float(
                        (hit & cls[:, col]).mean() * 100)

        with_mask = [r['hist'] for r in results if 'hist' in r]
        if with_mask:
            if len(with_mask) < len(results):
                _warn(f'PxAP uses the {len(with_mask)} of {len(results)} '
                      'images that have gt_sem_seg.')
            metrics['PxAP'] = _pixel_ap(np.sum(with_mask, axis=0))

        metrics.update(self._count_images(results))
        return metrics

    @staticmethod
    def _count_images(results: List[dict]) -> Dict[str, int]:
        """``num_images`` and ``num_without_box``; images without a
        ground-truth box (counted as not localised) are named in a warning.
        """
        without = [r['img_path'] for r in results if not r['has_box']]
        if without:
            _warn(f'{len(without)} of {len(results)} images have no '
                  'ground-truth box and count as not localised, e.g. '
                  f'{without[:3]}.')
        return dict(num_images=len(results), num_without_box=len(without))

    def _map(self, sample: dict) -> np.ndarray:
        """The sample's map as np.ndarray[H, W], checked."""
        path = sample.get('img_path', '<no img_path>')
        try:
            m = sample['seg_logits']['data']
        except (KeyError, TypeError):
            raise KeyError(
                f'WSOLMetric needs the map in seg_logits.data; the sample of '
                f'{path} has keys {sorted(sample)}. Evaluate a model whose '
                'predict() fills seg_logits, such as C2AM.') from None
        m = _numpy(m).astype(np.float32, copy=False)
        if m.ndim == 3 and m.shape[0] == 1:
            m = m[0]
        if m.ndim != 2 or m.size == 0:
            raise ValueError(f'WSOLMetric: the map of {path} has shape '
                             f'{m.shape}; expected one non-empty map '
                             '[1, H, W].')
        bad = m.size - int(np.isfinite(m).sum())
        if bad:
            raise ValueError(
                f'WSOLMetric: the map of {path} has {bad} NaN or infinite '
                'value(s); the model output is broken (diverged training, '
                'fp16 overflow or a bad checkpoint).')
        return m

    def _check_frame(self, sample: dict, gt: np.ndarray,
                     shape: Sequence[int]) -> None:
        """Warn once when boxes reach past the map: the boxes and the map
        are then probably not in the same frame."""
        height, width = shape
        outside = len(gt) and (gt[:, 2].max() > width
                               or gt[:, 3].max() > height or gt.min() < 0)
        if outside and not self._warned_frame:
            self._warned_frame = True
            _warn(f'the boxes of {sample.get("img_path")} ({gt.tolist()}) '
                  f'reach past its {height}x{width} map. Boxes and maps must '
                  'be in the same frame: pass the boxes through the test '
                  'transforms, and compare with maps of that size.')

    def _cls_hits(self, sample: dict) -> Optional[np.ndarray]:
        """``[top-1 right, top-5 right]`` (bool[2]), or None without
        predictions."""
        path = sample.get('img_path', '<no img_path>')
        if self.predictions is not None:
            ranked = lookup_prediction(self.predictions, path,
                                       self.predictions_file)
        elif 'topk_labels' in sample:
            ranked = _numpy(sample['topk_labels']).reshape(-1).tolist()
        elif 'pred_score' in sample:
            score = _numpy(sample['pred_score']).reshape(-1)
            ranked = np.argsort(-score, kind='stable')[:5].tolist()
        else:
            return None
        if 'gt_label' not in sample:
            raise KeyError(
                f'WSOLMetric got class predictions for {path} but no '
                'gt_label; add gt_label to the meta_keys of PackSegInputs.')
        label = int(_numpy(sample['gt_label']).reshape(-1)[0])
        ranked = [int(c) for c in ranked[:5]]
        return np.array([ranked[:1] == [label], label in ranked])

    def _stack_cls(self, results: list) -> Optional[np.ndarray]:
        """Class hits of every image (bool[N, 2]), or None if none has
        predictions; some but not all is an error."""
        missing = [r['img_path'] for r in results if r['cls'] is None]
        if len(missing) == len(results):
            return None
        if missing:
            raise ValueError(
                f'WSOLMetric: {len(missing)} of {len(results)} images have no '
                f'class prediction (e.g. {missing[:3]}); give predictions for '
                'every image or for none.')
        return np.stack([r['cls'] for r in results])

    def _pixel_histograms(self, sample: dict, m: np.ndarray) -> np.ndarray:
        """Histograms of the normalised map over foreground and background
        pixels (int32[2, pxap_bins + 2])."""
        mask = _numpy(sample['gt_sem_seg']['data'])
        mask = mask[0] if mask.ndim == 3 else mask
        if mask.shape != m.shape:
            raise ValueError(
                f'WSOLMetric: the mask of {sample.get("img_path")} is '
                f'{mask.shape} but its map is {m.shape}; both must be in the '
                'same frame (the same test transforms).')
        m = normalize_map(m)
        fg = np.histogram(m[(mask != 0) & (mask != 255)], self.pxap_edges)[0]
        bg = np.histogram(m[mask == 0], self.pxap_edges)[0]
        return np.stack([fg, bg]).astype(np.int32)


def _numpy(x) -> np.ndarray:
    """Tensor, array, list or number as a numpy array."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    if hasattr(x, 'tensor'):  # mmdet's box structures
        return _numpy(x.tensor)
    return np.asarray(x)


def _gt_boxes(sample: dict) -> np.ndarray:
    """Ground-truth boxes of a sample (np.ndarray[K, 4], K may be 0)."""
    boxes = sample.get('gt_bboxes')
    if boxes is None and isinstance(sample.get('gt_instances'), dict):
        boxes = sample['gt_instances'].get('bboxes')
    if boxes is None:
        return np.zeros((0, 4))
    return _numpy(boxes).astype(np.float64).reshape(-1, 4)


def _best_iou(boxes: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Best IoU with any ground-truth box of each box (float64[T])."""
    if len(gt) == 0:
        return np.zeros(len(boxes))
    return box_iou(boxes, gt).max(1)


def _best_iou_of_sets(box_sets: List[np.ndarray],
                      gt: np.ndarray) -> np.ndarray:
    """Best IoU of any box of each set with any ground-truth box
    (float64[T])."""
    counts = np.array([len(b) for b in box_sets])
    best = _best_iou(np.concatenate(box_sets), gt)
    return np.maximum.reduceat(best, np.cumsum(counts) - counts)


def _pixel_ap(hist: np.ndarray) -> float:
    """PxAP (percent) from summed foreground / background histograms
    (int[2, B], ascending bins): precision and recall at every bin edge
    from the top, AP = sum of precision times recall increments."""
    tp = hist[0, ::-1].cumsum().astype(np.float64)
    fp = hist[1, ::-1].cumsum().astype(np.float64)
    if tp[-1] == 0:
        _warn('PxAP is undefined: no foreground pixel in the masks.')
        return float('nan')
    predicted = tp + fp
    precision = np.divide(
        tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = tp / tp[-1]
    return float((precision[1:] * np.diff(recall)).sum() * 100)


def load_predictions(path: str) -> Dict[str, List[int]]:
    """Read a predictions file (see :class:`WSOLMetric`).

    Returns:
        dict[str, list[int]]: Image path to classes, best first.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'WSOLMetric(predictions="{path}"): no such file. Give a json '
            'object {image path: [classes, best first]} or a text file of '
            'lines "<image path> <class> <class> ...".')
    with open(path) as f:
        text = f.read()
    try:
        if path.endswith('.json'):
            table = json.loads(text)
            return {str(k): [int(c) for c in v] for k, v in table.items()}
        table = {}
        for line in text.splitlines():
            if line.strip():
                name, *classes = line.split()
                table[name] = [int(c) for c in classes]
        return table
    except (ValueError, AttributeError, TypeError) as err:
        raise ValueError(
            f'WSOLMetric could not read the predictions file {path}: {err}. '
            'Expected a json object {image path: [classes, best first]} or '
            'lines "<image path> <class> <class> ...".') from err


def lookup_prediction(table: Dict[str, List[int]], img_path: str,
                      source: str) -> List[int]:
    """Classes of ``img_path``: its full path's entry, else its longest
    trailing part's."""
    parts = str(img_path).replace('\\', '/').split('/')
    for start in range(len(parts)):
        key = '/'.join(parts[start:])
        if key in table:
            return table[key]
    raise KeyError(f'WSOLMetric: the predictions file {source} has no entry '
                   f'for {img_path} (nor for any trailing part of it).')


def _warn(message: str) -> None:
    print_log(
        f'WSOLMetric: {message}', logger='current', level=logging.WARNING)
