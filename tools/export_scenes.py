"""Write procedural scenes as files: COCO boxes and masks, or VOC layout.

The embedded default (``SyntheticScenesDataset``) lives in memory; mmdet's
``CocoDataset``, mmseg's ``BaseSegDataset`` and any other program read
files. For each split ``NAME`` (scenes ``0..N-1`` of its seed, the same
images the in-memory dataset gives), ``--layout coco`` (default) writes
under ``--out``:

- ``images/NAME/<index>.png``: the scene (8-bit BGR PNG, lossless);
- ``masks/NAME/<index>.png``: its foreground mask, 255 on objects
  (``CocoBoxDataset(mask_prefix='masks')`` reads it for PxAP);
- ``annotations/NAME.json``: COCO boxes of every object (``file_name``
  ``NAME/<index>.png`` relative to ``images/``, ``bbox`` ``[x, y, w, h]``
  in pixels, categories the shape families).

``--layout voc`` writes the segmentation layout of PASCAL VOC, with the
classes of ``--seg-labels`` (``textures``, default: background and the
four textures, the multi-class WSSS variant; ``binary``: background and
object); each image is named ``<id> = NAME_<index>``:

- ``JPEGImages/<id>.png``: the scene (lossless PNG in VOC's folder, so a
  VOC config needs only ``img_suffix='.png'``);
- ``SegmentationClass/<id>.png``: single-channel class ids (0 background,
  ``1 + t`` an object of texture ``t``), as ``BaseSegDataset`` reads them;
- ``ImageSets/Segmentation/NAME.txt``: the ids of the split;
- ``ImageLabels/NAME.txt``: image-level labels, one line per image, the id
  then the 0-based indices of the foreground classes present (class id
  minus 1), e.g. ``train_00007 0 3`` (format:
  ``mmc2am.datasets.image_labels``; read by ``tools/infer_cams.py
  --labels`` and ``ImageLabelDataset``, and usable as a ``--list``).

Existing images and masks are kept (every file is written atomically, so
an existing one is complete): re-running resumes. The json and list files
are rewritten.

Example:
    python tools/export_scenes.py --out data/scenes   # train, val, test
    python tools/export_scenes.py --out data/scenes_voc --layout voc
"""
import argparse
import json
import os.path as osp
import sys
from typing import Dict, List, Tuple

import numpy as np
from mmengine.utils import ProgressBar

from mmc2am.datasets import (SHAPE_FAMILIES, SyntheticScenesDataset,
                             write_image_labels)
from mmc2am.utils.io import atomic_output, remove_stale_temp_files
from mmc2am.utils.png import write_png

# name, seed, number of scenes: the splits of the demo's configs.
DEFAULT_SPLITS = ['train:0:1000', 'val:1:200', 'test:2:500']


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default='data/scenes', help='output root')
    parser.add_argument(
        '--size', type=int, default=96, help='scene side (the demo: 96)')
    parser.add_argument(
        '--splits',
        nargs='+',
        default=DEFAULT_SPLITS,
        help='NAME:SEED:NUMBER of each split (default: %(default)s)')
    parser.add_argument(
        '--layout',
        choices=['coco', 'voc'],
        default='coco',
        help='coco: images, binary masks, box json (default); voc: VOC '
        'segmentation layout with image-level labels')
    parser.add_argument(
        '--seg-labels',
        choices=['binary', 'textures'],
        help='voc layout only: SegmentationClass holds the object textures '
        '(textures, default) or object vs background (binary)')
    args = parser.parse_args(argv)
    if args.layout == 'coco' and args.seg_labels:
        parser.error('--seg-labels needs --layout voc (the coco layout '
                     'writes binary masks and shape-family boxes).')
    args.seg_labels = args.seg_labels or 'textures'
    return args


def parse_split(text: str) -> Tuple[str, int, int]:
    """``'train:0:1000'`` as ``('train', 0, 1000)``."""
    try:
        name, seed, num = text.split(':')
        return name, int(seed), int(num)
    except ValueError:
        raise ValueError(f'--splits entry "{text}" is not NAME:SEED:NUMBER '
                         '(e.g. train:0:1000).') from None


def write_missing(path: str, array: np.ndarray) -> bool:
    """Write ``array`` as a PNG unless ``path`` exists; True if written."""
    if osp.isfile(path):
        return False
    write_png(path, array)
    return True


def export_split(out: str, name: str, seed: int, num: int,
                 size: int) -> Tuple[str, int]:
    """Write one split in the coco layout; returns its json path and the
    images written."""
    dataset = SyntheticScenesDataset(
        num_scenes=num, seed=seed, img_size=size, pipeline=[])
    images: List[dict] = []
    annotations: List[dict] = []
    written = 0
    progress = ProgressBar(num)
    for index in range(num):
        info = dataset.get_data_info(index)
        file_name = f'{name}/{index:05d}.png'
        written += write_missing(
            osp.join(out, 'images', file_name), info['img'])
        write_missing(
            osp.join(out, 'masks', file_name),
            info['gt_seg_map'].astype(np.uint8) * 255)
        height, width = info['img'].shape[:2]
        images.append(
            dict(
                id=index + 1, file_name=file_name, height=height, width=width))
        for box, label in zip(info['gt_bboxes'], info['gt_bboxes_labels']):
            x0, y0, x1, y1 = (float(v) for v in box)
            annotations.append(
                dict(
                    id=len(annotations) + 1,
                    image_id=index + 1,
                    category_id=int(label) + 1,
                    bbox=[x0, y0, x1 - x0, y1 - y0],
                    area=(x1 - x0) * (y1 - y0),
                    iscrowd=0))
        progress.update()
    print()
    content = dict(
        info=dict(description=f'procedural scenes, seed {seed}, {size} px'),
        images=images,
        annotations=annotations,
        categories=[
            dict(id=i + 1, name=family)
            for i, family in enumerate(SHAPE_FAMILIES)
        ])
    json_path = osp.join(out, 'annotations', f'{name}.json')
    with atomic_output(json_path) as tmp, open(tmp, 'w') as f:
        json.dump(content, f)
    return json_path, written


def export_voc_split(out: str, name: str, seed: int, num: int, size: int,
                     seg_labels: str) -> Tuple[str, int]:
    """Write one split in the voc layout; returns its image-level label
    file and the images written."""
    dataset = SyntheticScenesDataset(
        num_scenes=num,
        seed=seed,
        img_size=size,
        seg_labels=seg_labels,
        pipeline=[])
    labels: Dict[str, List[int]] = {}
    written = 0
    progress = ProgressBar(num)
    for index in range(num):
        info = dataset.get_data_info(index)
        image_id = f'{name}_{index:05d}'
        written += write_missing(
            osp.join(out, 'JPEGImages', image_id + '.png'), info['img'])
        seg_map = info['gt_seg_map'].astype(np.uint8)
        write_missing(
            osp.join(out, 'SegmentationClass', image_id + '.png'), seg_map)
        labels[image_id] = [int(c) - 1 for c in np.unique(seg_map) if c > 0]
        progress.update()
    print()
    list_path = osp.join(out, 'ImageSets', 'Segmentation', f'{name}.txt')
    with atomic_output(list_path) as tmp, open(tmp, 'w') as f:
        f.writelines(image_id + '\n' for image_id in labels)
    labels_path = osp.join(out, 'ImageLabels', f'{name}.txt')
    write_image_labels(labels_path, labels)
    return labels_path, written


def main(argv=None) -> int:
    args = parse_args(argv)
    splits = [parse_split(text) for text in args.splits]
    if osp.isdir(args.out):
        remove_stale_temp_files(args.out)  # left by a killed run
    for name, seed, num in splits:
        if args.layout == 'voc':
            listing, written = export_voc_split(args.out, name, seed, num,
                                                args.size, args.seg_labels)
        else:
            listing, written = export_split(args.out, name, seed, num,
                                            args.size)
        print(f'{name}: {num} scenes (seed {seed}, {written} images written '
              f'now) and {listing}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
