"""Load the WSOL ground truth of a sample: boxes and foreground mask."""
from typing import Optional

import cv2
import mmengine.fileio as fileio
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadWSOLAnnotations(BaseTransform):
    """Boxes from ``instances`` and a binary mask from ``seg_map_path``.

    The mmseg-side counterpart of mmdet's ``LoadAnnotations`` for the box
    data sets (:class:`CUBBoxDataset`, :class:`ILSVRCBoxDataset`,
    :class:`CocoBoxDataset`, whose samples hold mmdet's ``instances``):
    boxes become the arrays mmcv's ``Resize``, ``CenterCrop`` and
    ``RandomFlip`` transform with the image, and ``PackSegInputs`` keeps
    in the metainfo when listed in its ``meta_keys`` (what
    :class:`WSOLMetric` reads).

    The mask file is read as 8-bit grey; a pixel is foreground (1) when its
    value is above ``mask_threshold``, else background (0). The default 0
    is wsolevaluation's rule (``mask > 0.5`` on 0-255 values), which counts
    CUB's soft mask borders (annotator agreement) as foreground; 127 keeps
    the majority only. ``PackSegInputs`` packs it as ``gt_sem_seg`` (PxAP).
    A sample without ``seg_map_path`` (or None) gets no mask, so one
    pipeline serves data with and without masks.

    Required Keys:

    - img (to check the mask's size)
    - instances (optional): ``bbox`` ``[x0, y0, x1, y1]``, ``bbox_label``
    - seg_map_path (optional)

    Added Keys:

    - gt_bboxes (np.ndarray[K, 4], float32)
    - gt_bboxes_labels (np.ndarray[K], int64)
    - gt_seg_map (np.ndarray[H, W], uint8, 0/1), ``seg_fields`` appended

    Args:
        with_bbox (bool): Load the boxes. Defaults to True.
        with_mask (bool): Load the mask. Defaults to True.
        mask_threshold (int): Foreground is ``value > mask_threshold``.
            Defaults to 0.
        backend_args (dict, optional): mmengine file backend arguments.
            Defaults to None.

    Raises:
        FileNotFoundError: The mask file does not exist.
        ValueError: It cannot be decoded, or its size differs from the
            image's (both named).
    """

    def __init__(self,
                 with_bbox: bool = True,
                 with_mask: bool = True,
                 mask_threshold: int = 0,
                 backend_args: Optional[dict] = None) -> None:
        self.with_bbox = with_bbox
        self.with_mask = with_mask
        self.mask_threshold = mask_threshold
        self.backend_args = backend_args

    def _load_boxes(self, results: dict) -> None:
        instances = results.get('instances', [])
        results['gt_bboxes'] = np.array([inst['bbox'] for inst in instances],
                                        dtype=np.float32).reshape(-1, 4)
        results['gt_bboxes_labels'] = np.array(
            [inst['bbox_label'] for inst in instances], dtype=np.int64)

    def _load_mask(self, results: dict, path: str) -> None:
        try:
            data = fileio.get(path, backend_args=self.backend_args)
        except FileNotFoundError as err:
            raise FileNotFoundError(f'Mask file not found: {path}') from err
        mask = cv2.imdecode(
            np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
        if mask is None:
            raise ValueError(f'OpenCV cannot decode the mask {path}.')
        img_shape = results['img'].shape[:2]
        if mask.shape != img_shape:
            raise ValueError(
                f'the mask {path} is {mask.shape[1]}x{mask.shape[0]} (WxH) '
                f'but its image {results.get("img_path")} is '
                f'{img_shape[1]}x{img_shape[0]}; masks must be pixel-aligned '
                'with their images.')
        results['gt_seg_map'] = (mask > self.mask_threshold).astype(np.uint8)
        results.setdefault('seg_fields', []).append('gt_seg_map')

    def transform(self, results: dict) -> dict:
        """Add the boxes and, when the sample has a mask file, the mask."""
        if self.with_bbox:
            self._load_boxes(results)
        path = results.get('seg_map_path')
        if self.with_mask and path:
            self._load_mask(results, path)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(with_bbox={self.with_bbox}, '
                f'with_mask={self.with_mask}, '
                f'mask_threshold={self.mask_threshold}, '
                f'backend_args={self.backend_args})')
