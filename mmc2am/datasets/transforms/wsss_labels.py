"""Segmentation labels built at load time from CAMs and background cues.

Drop-ins for mmseg's ``LoadAnnotations`` (same output keys), so that any
stock mmseg config trains on WSSS pseudo labels without label files
written ahead (method.md sections 6.4 and 6.5).
"""
import logging
import os.path as osp
from typing import Optional, Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log
from mmseg.registry import TRANSFORMS

from mmc2am.apis.pseudo_label_files import (CAM_SUFFIXES, INPUT_ERRORS,
                                            find_cam_file, labels_from_files)
from mmc2am.functional.cues import cue_to_label
from mmc2am.functional.pseudo_labels import load_label_map


def _image_shape(results: dict) -> Optional[Tuple[int, int]]:
    """``(H, W)`` of the loaded image, or None before it is loaded."""
    if results.get('img') is not None:
        return tuple(results['img'].shape[:2])
    return None


def _image_stem(results: dict) -> str:
    return osp.splitext(osp.basename(results['img_path']))[0]


def _check_size(labels: np.ndarray, results: dict, source: str) -> None:
    shape = _image_shape(results)
    if shape is not None and labels.shape != shape:
        raise ValueError(
            f'{source} is {labels.shape[0]} x {labels.shape[1]} but the '
            f'image {results["img_path"]} is {shape[0]} x {shape[1]} '
            '(H x W): write it at the image\'s size, and put this transform '
            'right after the image loading, before any Resize or crop.')


def _add_label(results: dict, labels: np.ndarray) -> dict:
    """Store ``labels`` as ``LoadAnnotations`` does."""
    results['gt_seg_map'] = labels
    results.setdefault('seg_fields', [])
    if 'gt_seg_map' not in results['seg_fields']:
        results['seg_fields'].append('gt_seg_map')
    return results


@TRANSFORMS.register_module()
class LoadRefinedCAMLabel(BaseTransform):
    """Build ``gt_seg_map`` from the image's class CAMs and background cue.

    For the image ``<dir>/<name>.<ext>`` it reads ``cam_dir/<name>.npy``
    (or the other ``cam_suffixes``; layouts in
    :func:`mmc2am.functional.pseudo_labels.read_cams`) and, with
    ``cue_dir``, ``cue_dir/<name><cue_suffix>`` (foreground 255), and
    labels each pixel by the argmax over the background score ``1 - cue``
    and the class CAMs (without ``cue_dir``: the constant ``bg_threshold``,
    the baseline), exactly as ``tools/refine_cam_labels.py`` writes it
    (both call :func:`mmc2am.apis.pseudo_label_files.labels_from_files`).
    Replace ``LoadAnnotations`` with it, after the image loading and
    before any geometric transform.

    Required Keys:

    - img_path
    - img (optional: when present, the label must have its size)

    Added Keys:

    - gt_seg_map (np.ndarray[H, W], uint8: 0 background, ``k`` class id
      ``k``, 255 ignored)
    - seg_fields

    Args:
        cam_dir (str): Folder of the CAM files.
        cue_dir (str, optional): Folder of the cue PNGs. Defaults to None
            (constant-threshold baseline; ``bg_threshold`` then needed).
        bg_threshold (float, optional): Background score of the baseline,
            used only without ``cue_dir``. Defaults to None.
        ignore_below (float, optional): Pixels whose winning score is below
            this are labelled 255 (ignored by the loss). Defaults to None.
        cam_suffixes (str | Sequence[str]): CAM file endings, tried in
            order. Defaults to ``('.npy', '.npz')``.
        cue_suffix (str): Cue file ending. Defaults to '.png'.
        skip_bad (bool): Instead of raising on a missing or bad file, log a
            warning naming it and return None (mmengine's ``BaseDataset``
            then draws another sample in training). Defaults to False.
    """

    def __init__(self,
                 cam_dir: str,
                 cue_dir: Optional[str] = None,
                 bg_threshold: Optional[float] = None,
                 ignore_below: Optional[float] = None,
                 cam_suffixes: Union[str, Sequence[str]] = CAM_SUFFIXES,
                 cue_suffix: str = '.png',
                 skip_bad: bool = False) -> None:
        if (cue_dir is None) == (bg_threshold is None):
            raise ValueError(
                'LoadRefinedCAMLabel needs cue_dir (labels refined by the '
                'background cues) or bg_threshold (the constant-threshold '
                f'baseline), not both or neither; got cue_dir={cue_dir!r}, '
                f'bg_threshold={bg_threshold!r}.')
        if bg_threshold is not None and not 0 <= bg_threshold <= 1:
            raise ValueError('bg_threshold must lie in [0, 1] (CAMs are '
                             f'normalised to [0, 1]); got {bg_threshold}.')
        self.cam_dir = cam_dir
        self.cue_dir = cue_dir
        self.bg_threshold = bg_threshold
        self.ignore_below = ignore_below
        self.cam_suffixes = ((cam_suffixes, ) if isinstance(cam_suffixes, str)
                             else tuple(cam_suffixes))
        self.cue_suffix = cue_suffix
        self.skip_bad = skip_bad

    def transform(self, results: dict) -> Optional[dict]:
        """Add the refined label of ``results['img_path']``."""
        name = _image_stem(results)
        try:
            cam_file = find_cam_file(self.cam_dir, name, self.cam_suffixes)
            cue_file = (None if self.cue_dir is None else osp.join(
                self.cue_dir, name + self.cue_suffix))
            try:
                labels = labels_from_files(cam_file, cue_file,
                                           self.bg_threshold,
                                           self.ignore_below)
            except ValueError as err:
                sources = cam_file + (f' and {cue_file}' if cue_file else '')
                raise ValueError(f'{sources}: {err}') from err
            _check_size(labels, results, f'CAM file {cam_file}')
        except INPUT_ERRORS as err:
            if not self.skip_bad:
                raise
            print_log(
                f'Skipped an image without a usable pseudo label: {err}',
                logger='current',
                level=logging.WARNING)
            return None
        return _add_label(results, labels)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(cam_dir={self.cam_dir!r}, '
                f'cue_dir={self.cue_dir!r}, bg_threshold={self.bg_threshold}'
                f', ignore_below={self.ignore_below})')


@TRANSFORMS.register_module()
class LoadCueAnnotation(BaseTransform):
    """Read a background cue PNG as a binary label: 1 object, 0 background.

    Cues store the foreground as 255, which mmseg reads as "ignore"; this
    reads them as class ids for a 2-class (background, object) model
    (method.md section 6.4), through
    :func:`mmc2am.functional.cues.cue_to_label`. Replace
    ``LoadAnnotations`` with it, after the image loading.

    The cue is ``cue_dir/<name><cue_suffix>`` for the image
    ``<dir>/<name>.<ext>`` when ``cue_dir`` is given, else the sample's
    ``seg_map_path`` (a dataset whose ``data_prefix.seg_map_path`` is the
    cue folder).

    Required Keys:

    - img_path, or seg_map_path without ``cue_dir``
    - img (optional: when present, the cue must have its size)

    Added Keys:

    - gt_seg_map (np.ndarray[H, W], uint8 in {0, 1})
    - seg_fields

    Args:
        cue_dir (str, optional): Folder of the cue PNGs. Defaults to None
            (read ``seg_map_path``).
        cue_suffix (str): Cue file ending with ``cue_dir``. Defaults to
            '.png'.
        threshold (int): Cue values ``>= threshold`` are the object, so
            soft (refined) cues are cut at one half. Defaults to 128.
    """

    def __init__(self,
                 cue_dir: Optional[str] = None,
                 cue_suffix: str = '.png',
                 threshold: int = 128) -> None:
        if not 1 <= threshold <= 255:
            raise ValueError(f'threshold must be in [1, 255]; got '
                             f'{threshold}.')
        self.cue_dir = cue_dir
        self.cue_suffix = cue_suffix
        self.threshold = threshold

    def transform(self, results: dict) -> dict:
        """Add the binary label of the image's cue."""
        if self.cue_dir is not None:
            path = osp.join(self.cue_dir,
                            _image_stem(results) + self.cue_suffix)
        elif results.get('seg_map_path'):
            path = results['seg_map_path']
        else:
            raise KeyError(f'{results.get("img_path")}: no cue file: set '
                           'LoadCueAnnotation(cue_dir=...) or the dataset\'s '
                           'data_prefix.seg_map_path to the cue folder.')
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'cue file {path} of image {results.get("img_path")} does '
                'not exist: write the background cue of every training '
                'image (PNG, foreground 255), or leave the image out.')
        labels = cue_to_label(load_label_map(path), self.threshold)
        _check_size(labels, results, f'cue file {path}')
        return _add_label(results, labels)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(cue_dir={self.cue_dir!r}, '
                f'cue_suffix={self.cue_suffix!r}, threshold={self.threshold})')
