"""ILSVRC 2012 images with the boxes of their per-image XML files."""
import logging
import os.path as osp
import xml.etree.ElementTree as ET
from typing import Dict, List, Optional, Tuple

import mmengine.fileio as fileio
from mmengine.logging import print_log
from mmdet.registry import DATASETS as DET_DATASETS
from mmseg.registry import DATASETS

from .box_info import box_sample
from .cub_boxes import _under
from .image_folder import ImageFolderDataset, format_names

_MISSING = ('error', 'skip', 'empty')


def read_voc_boxes(
    path: str,
    backend_args: Optional[dict] = None
) -> Tuple[List[List[float]], List[str]]:
    """Boxes and class names of a Pascal-VOC-style XML file (ILSVRC's).

    Every ``<object>`` with a ``<bndbox>`` gives ``[xmin, ymin, xmax,
    ymax]``, as written (ILSVRC's pixel coordinates), and its ``<name>``.

    Args:
        path (str): The XML file.
        backend_args (dict, optional): mmengine file backend arguments.
            Defaults to None.

    Returns:
        tuple: Boxes (list of [x0, y0, x1, y1]) and names, in file order.

    Raises:
        ValueError: The file is not XML, or an object's box lacks a field
            or holds a non-number (the file is named).
    """
    try:
        root = ET.fromstring(fileio.get_text(path, backend_args=backend_args))
    except ET.ParseError as err:
        raise ValueError(f'{path} is not a valid XML file: {err}.') from err
    boxes, names = [], []
    for number, obj in enumerate(root.iter('object'), 1):
        box = obj.find('bndbox')
        if box is None:
            continue
        try:
            boxes.append([
                float(box.find(key).text)
                for key in ('xmin', 'ymin', 'xmax', 'ymax')
            ])
        except (AttributeError, TypeError, ValueError):
            raise ValueError(
                f'{path}: object {number} has an incomplete <bndbox>; it '
                'needs numbers in <xmin>, <ymin>, <xmax> and <ymax>.'
            ) from None
        names.append((obj.findtext('name') or '').strip())
    return boxes, names


@DATASETS.register_module()
@DET_DATASETS.register_module()
class ILSVRCBoxDataset(ImageFolderDataset):
    """ILSVRC 2012 images with their boxes, for WSOL evaluation.

    Layout under ``data_root`` (validation images flat, their boxes from
    ``ILSVRC2012_bbox_val_v3.tgz``; training images in class folders, the
    boxes of some of them from ``ILSVRC2012_bbox_train_v2.tar.gz``)::

        val/ILSVRC2012_val_00000001.JPEG
        val_boxes/ILSVRC2012_val_00000001.xml      (box_prefix)
        train/<wnid>/<wnid>_<n>.JPEG
        train_boxes/<wnid>/<wnid>_<n>.xml          (box_prefix)

    Image ``<img_path>/<stem>.JPEG`` has the boxes of
    ``<box_prefix>/<stem>.xml`` (read by :func:`read_voc_boxes`). Images
    are scanned (sorted) or listed in ``ann_file`` (see
    :class:`ImageFolderDataset`; ILSVRC's ``train_cls.txt`` works with
    ``img_suffix='.JPEG'``: only the first word of a line is used). The
    samples are :func:`box_sample`'s; registered in mmseg's and mmdet's
    ``DATASETS`` (see :class:`CUBBoxDataset`).

    Classes: with a class list (``class_file``: one wnid per line as its
    first word, in class-index order, e.g. ``LOC_synset_mapping.txt``; or
    else the sorted sub-folders of ``<data_root>/train``, torchvision's
    ImageFolder order) each box gets its ``<name>``'s index and the image
    the first box's (``gt_label``), or its class folder's when it has no
    box; without a list, every box is class 0 and there is no
    ``gt_label`` (Top-k Loc then cannot be scored).

    Args:
        data_prefix (dict): Image folder. Defaults to
            ``dict(img_path='val')``.
        box_prefix (str): Folder of the XML files, relative to
            ``data_root``. Defaults to 'val_boxes'.
        missing_boxes (str): An image without XML file: 'error' (default),
            'skip' it (named in a warning; e.g. training images, most of
            which have no boxes) or keep it with 'empty' boxes (it then
            counts as not localised).
        class_file (str): Class list, relative to ``data_root``.
            Defaults to '' (the ``train`` sub-folders, if any).
        per_class (int, optional): Keep the first ``per_class`` images (with
            boxes, when ``missing_boxes='skip'``) of each class folder, in
            order: a class-balanced held-out split, e.g. 10 training images
            per class. Defaults to None (all).
        **kwargs: Other :class:`ImageFolderDataset` arguments.
    """

    def __init__(self,
                 data_prefix: dict = dict(img_path='val'),
                 box_prefix: str = 'val_boxes',
                 missing_boxes: str = 'error',
                 class_file: str = '',
                 per_class: Optional[int] = None,
                 **kwargs) -> None:
        if missing_boxes not in _MISSING:
            raise ValueError(f'ILSVRCBoxDataset(missing_boxes='
                             f'"{missing_boxes}"): use one of {_MISSING}.')
        root = kwargs.get('data_root', '')
        self.box_dir = _under(root, box_prefix)
        self.missing_boxes = missing_boxes
        self.per_class = per_class
        self.class_file = _under(root, class_file) if class_file else ''
        self.wnids = self._read_wnids(root)
        self._index = {wnid: i for i, wnid in enumerate(self.wnids)}
        metainfo = dict(kwargs.pop('metainfo', None) or {})
        if self.wnids:
            metainfo.setdefault('box_classes', self.wnids)
        super().__init__(data_prefix=data_prefix, metainfo=metainfo, **kwargs)

    def _read_wnids(self, root: str) -> Tuple[str, ...]:
        """The class list (see the class doc), or () without one."""
        if self.class_file:
            if not fileio.isfile(self.class_file):
                raise FileNotFoundError(
                    f'ILSVRCBoxDataset: class_file {self.class_file} does not '
                    'exist; give a file with one wnid per line, or leave '
                    'class_file empty to use the train/ sub-folders.')
            return tuple(
                line.split()[0]
                for line in fileio.get_text(self.class_file).splitlines()
                if line.strip())
        train = osp.join(root, 'train') if root else 'train'
        if not osp.isdir(train):
            return ()
        return tuple(
            sorted(
                name
                for name in fileio.list_dir_or_file(train, list_file=False)
                if not name.startswith('.')))

    def read_list(self) -> List[str]:
        """Listed paths: the first word of each line (so ``train_cls.txt``
        lines ``<path> <index>`` work), ``img_suffix`` appended."""
        self._check_file(self.ann_file, 'list file')
        text = fileio.get_text(self.ann_file, backend_args=self.backend_args)
        return [
            line.split()[0] + self.img_suffix for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith('#')
        ]

    def _label(self, wnid: str, xml: str) -> int:
        """The class index of ``wnid``, read in ``xml``."""
        if wnid not in self._index:
            raise ValueError(f'{xml}: class "{wnid}" is not in the class '
                             f'list ({len(self.wnids)} classes, e.g. '
                             f'{list(self.wnids[:3])}).')
        return self._index[wnid]

    def load_data_list(self) -> List[dict]:
        """Images with the boxes of their XML files (see the class doc)."""
        samples, missing = [], []
        taken: Dict[str, int] = {}
        for info in super().load_data_list():
            path = info['img_path']
            stem = osp.splitext(osp.relpath(path, self.img_dir))[0]
            xml = fileio.join_path(self.box_dir, stem + '.xml')
            folder = stem.split('/')[0] if '/' in stem else ''
            if self.per_class is not None and \
                    taken.get(folder, 0) >= self.per_class:
                continue
            if fileio.isfile(xml, backend_args=self.backend_args):
                boxes, names = read_voc_boxes(xml, self.backend_args)
            elif self.missing_boxes == 'error':
                raise FileNotFoundError(
                    f'ILSVRCBoxDataset: {path} has no box file {xml}. Set '
                    '`box_prefix` to the folder of the XML files, or '
                    '`missing_boxes` to "skip" or "empty".')
            else:
                missing.append(path)
                if self.missing_boxes == 'skip':
                    continue
                boxes, names = [], []
            labels = [
                self._label(name, xml) if self.wnids else 0 for name in names
            ]
            gt_label = None
            if self.wnids and (names or folder in self._index):
                gt_label = labels[0] if labels else self._index[folder]
            samples.append(
                box_sample(path, boxes, labels, gt_label, source=xml))
            taken[folder] = taken.get(folder, 0) + 1
        if missing:
            action = 'skipped' if self.missing_boxes == 'skip' else \
                'kept without boxes'
            print_log(
                f'ILSVRCBoxDataset: {len(missing)} images without box file '
                f'in {self.box_dir} were {action}:\n{format_names(missing)}',
                logger='current',
                level=logging.WARNING)
        return samples
