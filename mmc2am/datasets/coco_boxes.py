"""Images with the boxes of a COCO-format json file (any custom data)."""
import json
import os.path as osp
from typing import Dict, List, Optional

import mmengine.fileio as fileio
from mmdet.registry import DATASETS as DET_DATASETS
from mmseg.registry import DATASETS

from .box_info import box_sample
from .cub_boxes import _under
from .image_folder import ImageFolderDataset


@DATASETS.register_module()
@DET_DATASETS.register_module()
class CocoBoxDataset(ImageFolderDataset):
    """The images and boxes of a COCO-format json, for WSOL evaluation.

    Reads ``images`` (``id``, ``file_name``; ``height`` and ``width`` are
    not needed), ``annotations`` (``image_id``, ``bbox`` as ``[x, y, w,
    h]``, ``category_id``) and ``categories`` (``id``, ``name``), e.g. the
    files written by ``tools/extract_boxes.py`` or
    ``tools/export_scenes.py``, or any detection data set. Images keep the
    json's order; an image with no annotation is kept with no box (it
    counts as not localised, and the metric reports how many there were).
    Crowd annotations are boxes like the others.

    Each sample is :func:`box_sample`'s: boxes ``[x, y, x + w, y + h]`` in
    original-image pixels, box classes as indices into the categories
    sorted by id (names in ``dataset_meta['box_classes']``), ``gt_label``
    the class of the image's largest box, and with ``mask_prefix`` the mask
    ``<mask_prefix>/<file_name without extension>.png``. Registered in
    mmseg's and mmdet's ``DATASETS`` (see :class:`CUBBoxDataset`).

    Args:
        ann_file (str): The json file, relative to ``data_root``.
        data_prefix (dict): ``img_path``: the folder ``file_name`` is
            relative to. Defaults to ``dict(img_path='')``.
        mask_prefix (str, optional): Foreground-mask folder relative to
            ``data_root``. Defaults to None.
        **kwargs: Other :class:`ImageFolderDataset` arguments (``data_root``,
            ``pipeline``, ``skip_missing``...).

    Raises:
        FileNotFoundError: The json, a listed image (unless
            ``skip_missing``) or a mask is missing.
        ValueError: The json lacks a key or an annotation names an unknown
            image or category (the file is named).
    """

    def __init__(self,
                 ann_file: str,
                 data_prefix: dict = dict(img_path=''),
                 mask_prefix: Optional[str] = None,
                 **kwargs) -> None:
        root = kwargs.get('data_root', '')
        self.mask_dir = _under(root, mask_prefix) if mask_prefix else None
        self._json = self._read_json(_under(root, ann_file))
        categories = sorted(self._json['categories'], key=lambda c: c['id'])
        self._label_of = {c['id']: i for i, c in enumerate(categories)}
        metainfo = dict(kwargs.pop('metainfo', None) or {})
        metainfo.setdefault(
            'box_classes',
            tuple(str(c.get('name', c['id'])) for c in categories))
        super().__init__(
            ann_file=ann_file,
            data_prefix=data_prefix,
            metainfo=metainfo,
            **kwargs)

    @staticmethod
    def _read_json(path: str) -> dict:
        if not fileio.isfile(path):
            raise FileNotFoundError(
                f'CocoBoxDataset: annotation file {path} does not exist.')
        try:
            content = json.loads(fileio.get_text(path))
        except ValueError as err:
            raise ValueError(f'CocoBoxDataset: {path} is not valid json: '
                             f'{err}.') from err
        missing = [
            key for key in ('images', 'annotations', 'categories')
            if not isinstance(content.get(key), list)
        ]
        if missing:
            raise ValueError(f'CocoBoxDataset: {path} has no list '
                             f'{missing}; a COCO box file has "images", '
                             '"annotations" and "categories".')
        content['path'] = path
        return content

    def _boxes_by_image(self) -> Dict[object, List[dict]]:
        """Annotations grouped by image id, checked."""
        path = self._json['path']
        images = {image['id'] for image in self._json['images']}
        grouped: Dict[object, List[dict]] = {}
        for number, ann in enumerate(self._json['annotations']):
            where = f'{path}, annotation {number} (id {ann.get("id")})'
            if ann.get('image_id') not in images:
                raise ValueError(f'{where}: image_id {ann.get("image_id")} '
                                 'is not in "images".')
            if ann.get('category_id') not in self._label_of:
                raise ValueError(f'{where}: category_id '
                                 f'{ann.get("category_id")} is not in '
                                 '"categories".')
            bbox = ann.get('bbox')
            if not (isinstance(bbox, list) and len(bbox) == 4):
                raise ValueError(f'{where}: bbox {bbox} is not [x, y, w, h].')
            grouped.setdefault(ann['image_id'], []).append(ann)
        return grouped

    def load_data_list(self) -> List[dict]:
        """The json's images with their boxes (see the class doc)."""
        grouped = self._boxes_by_image()
        by_path = {}
        for image in self._json['images']:
            if 'file_name' not in image or 'id' not in image:
                raise ValueError(f'CocoBoxDataset: an image of '
                                 f'{self._json["path"]} lacks "id" or '
                                 f'"file_name": {image}.')
            path = fileio.join_path(self.img_dir, image['file_name'])
            by_path[path] = image
        kept = self._drop_missing(list(by_path))
        samples = []
        for path in kept:
            image = by_path[path]
            anns = grouped.get(image['id'], [])
            boxes = [[x, y, x + w, y + h]
                     for x, y, w, h in (ann['bbox'] for ann in anns)]
            labels = [self._label_of[ann['category_id']] for ann in anns]
            areas = [ann['bbox'][2] * ann['bbox'][3] for ann in anns]
            gt_label = labels[areas.index(max(areas))] if anns else None
            mask = None
            if self.mask_dir is not None:
                mask = fileio.join_path(
                    self.mask_dir,
                    osp.splitext(image['file_name'])[0] + '.png')
                self._check_file(mask, 'mask')
            samples.append(
                box_sample(
                    path,
                    boxes,
                    labels,
                    gt_label,
                    mask,
                    source=self._json['path']))
        return samples
