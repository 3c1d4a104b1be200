"""The sample layout shared by the data sets with ground-truth boxes."""
from typing import Optional, Sequence

import numpy as np


def box_sample(img_path: str,
               boxes: Sequence[Sequence[float]],
               labels: Sequence[int],
               gt_label: Optional[int] = None,
               seg_map_path: Optional[str] = None,
               source: str = '') -> dict:
    """A sample with boxes, readable by mmseg and mmdet pipelines alike.

    Keys:

    - ``img_path``
    - ``instances``: the boxes in mmdet's layout, ``bbox`` ``[x0, y0, x1,
      y1]`` in original-image pixels, ``bbox_label`` and ``ignore_flag``
      (0), read into arrays by :class:`LoadWSOLAnnotations` in mmseg
      pipelines and into box structures by mmdet's ``LoadAnnotations``;
    - ``gt_label`` (int, when known): the image's class;
    - ``seg_map_path`` (str | None): a foreground mask for
      :class:`LoadWSOLAnnotations`; ``seg_fields`` starts empty.

    Args:
        img_path (str): The image file.
        boxes (Sequence[Sequence[float]]): K boxes ``[x0, y0, x1, y1]``
            (K may be 0).
        labels (Sequence[int]): K box classes.
        gt_label (int, optional): The image's class. Defaults to None.
        seg_map_path (str, optional): Its mask file. Defaults to None.
        source (str): Where the boxes were read, for error messages.
            Defaults to ''.

    Raises:
        ValueError: Non-finite boxes, or boxes with ``x1 < x0`` or
            ``y1 < y0``, naming ``source``.
    """
    gt = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    inverted = (gt[:, 2] < gt[:, 0]) | (gt[:, 3] < gt[:, 1])
    bad = ~np.isfinite(gt).all(1) | inverted
    if bad.any():
        raise ValueError(
            f'{source or img_path}: box {gt[bad][0].tolist()} of {img_path} '
            'is not a box [x0, y0, x1, y1] with x0 <= x1 and y0 <= y1 (a '
            'width or height may have been read as a corner).')
    gt_labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    if len(gt_labels) != len(gt):
        raise ValueError(f'{source or img_path}: {len(gt)} boxes but '
                         f'{len(gt_labels)} labels for {img_path}.')
    sample = dict(
        img_path=img_path,
        instances=[
            dict(bbox=box.tolist(), bbox_label=int(label), ignore_flag=0)
            for box, label in zip(gt, gt_labels)
        ],
        seg_map_path=seg_map_path,
        seg_fields=[])
    if gt_label is not None:
        sample['gt_label'] = int(gt_label)
    return sample
