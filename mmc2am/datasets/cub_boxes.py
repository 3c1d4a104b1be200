"""CUB-200-2011 images with their boxes, classes and optional masks."""
import os.path as osp
from typing import Dict, List, Optional, Tuple

import mmengine.fileio as fileio
from mmengine.utils import is_abs
from mmdet.registry import DATASETS as DET_DATASETS
from mmseg.registry import DATASETS

from .box_info import box_sample
from .cub import CUBImageDataset


@DATASETS.register_module()
@DET_DATASETS.register_module()
class CUBBoxDataset(CUBImageDataset):
    """A CUB-200-2011 split with its ground truth, for WSOL evaluation.

    Layout under ``data_root`` (as distributed; the masks are the separate
    "segmentations" download)::

        images/<class folder>/<name>.jpg
        images.txt               <image id> <path relative to images/>
        train_test_split.txt     <image id> <1: train, 0: test>
        bounding_boxes.txt       <image id> <x> <y> <width> <height>
        image_class_labels.txt   <image id> <class id, 1-based>
        classes.txt              <class id> <class folder>   (optional)
        segmentations/<class folder>/<name>.png               (optional)

    Each sample is :func:`box_sample`'s: one box ``[x, y, x + w, y + h]``
    in original-image pixels (``instances``), ``gt_label`` (class id - 1,
    so 0..199) as the class of the box and of the image, and with
    ``mask_prefix`` the mask file (``seg_map_path``; PxAP). Class names from
    ``classes.txt`` are in ``dataset_meta['box_classes']``. Registered in
    mmseg's and mmdet's ``DATASETS``: :class:`LoadWSOLAnnotations` reads
    the ground truth in mmseg pipelines, ``LoadAnnotations`` in mmdet's.

    Args:
        split (str): 'train', 'test' or 'all'. Defaults to 'test'.
        box_file (str): Box list, relative to ``data_root``.
            Defaults to 'bounding_boxes.txt'.
        label_file (str): Class list, relative to ``data_root``.
            Defaults to 'image_class_labels.txt'.
        class_file (str): Class names, relative to ``data_root``; skipped
            when it does not exist. Defaults to 'classes.txt'.
        mask_prefix (str, optional): Mask folder relative to ``data_root``
            (e.g. 'segmentations'): image ``<c>/<name>.jpg`` has the mask
            ``<mask_prefix>/<c>/<name>.png``. Defaults to None (no masks).
        **kwargs: Other :class:`CUBImageDataset` arguments (``data_root``,
            ``pipeline``, ``skip_missing``...).

    Raises:
        FileNotFoundError: A list file or (with ``mask_prefix``) a mask is
            missing.
        ValueError: An image of the split has no box or no class line, or
            a line is malformed (the file and line are named).
    """

    def __init__(self,
                 split: str = 'test',
                 box_file: str = 'bounding_boxes.txt',
                 label_file: str = 'image_class_labels.txt',
                 class_file: str = 'classes.txt',
                 mask_prefix: Optional[str] = None,
                 **kwargs) -> None:
        root = kwargs.get('data_root', '')
        self.box_file, self.label_file, self.class_file = (
            _under(root, name) for name in (box_file, label_file, class_file))
        self.mask_dir = _under(root, mask_prefix) if mask_prefix else None
        self._class_names = self._read_class_names()
        metainfo = dict(kwargs.pop('metainfo', None) or {})
        if self._class_names:
            metainfo.setdefault('box_classes', self._class_names)
        super().__init__(split=split, metainfo=metainfo, **kwargs)

    def _read_class_names(self) -> Tuple[str, ...]:
        """Names in ``classes.txt`` order, or () when it does not exist."""
        if not fileio.isfile(self.class_file):
            return ()
        text = fileio.get_text(self.class_file)
        return tuple(
            line.split(maxsplit=1)[1].strip() for line in text.splitlines()
            if len(line.split()) >= 2)

    def _read_boxes(self) -> Dict[str, List[float]]:
        """``{image id: [x0, y0, x1, y1]}`` from the box list."""
        boxes = {}
        for image_id, value in self._read_pairs(self.box_file,
                                                'box list').items():
            try:
                x, y, w, h = (float(v) for v in value.split())
            except ValueError:
                raise ValueError(
                    f'{self.box_file}: the line of image id {image_id} is '
                    f'"{image_id} {value}"; expected "<image id> <x> <y> '
                    '<width> <height>".') from None
            boxes[image_id] = [x, y, x + w, y + h]
        return boxes

    def _mask_path(self, relative: str) -> Optional[str]:
        """The mask of an image path relative to ``images/``, checked."""
        if self.mask_dir is None:
            return None
        path = fileio.join_path(self.mask_dir,
                                osp.splitext(relative)[0] + '.png')
        self._check_file(path, 'mask')
        return path

    def load_data_list(self) -> List[dict]:
        """The split's images with box, class and mask (see the class
        doc)."""
        infos = super().load_data_list()
        ids = {
            fileio.join_path(self.img_dir, rel): (image_id, rel)
            for image_id, rel in self._read_pairs(self.ann_file,
                                                  'image list').items()
        }
        boxes = self._read_boxes()
        labels = self._read_pairs(self.label_file, 'class list')
        samples = []
        for info in infos:
            image_id, relative = ids[info['img_path']]
            for table, name in ((boxes, self.box_file), (labels,
                                                         self.label_file)):
                if image_id not in table:
                    raise ValueError(
                        f'{name} has no line for image id {image_id} '
                        f'({relative}); the lists of the data set do not '
                        'match.')
            label = int(labels[image_id]) - 1
            samples.append(
                box_sample(
                    info['img_path'], [boxes[image_id]], [label],
                    gt_label=label,
                    seg_map_path=self._mask_path(relative),
                    source=self.box_file))
        return samples


def _under(root: str, path: str) -> str:
    """``path`` joined to ``root`` unless it is absolute (or root empty)."""
    return fileio.join_path(root, path) if root and not is_abs(path) else path
