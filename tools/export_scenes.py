"""Write procedural scenes as files: images, masks and COCO box json.

The embedded default (``SyntheticScenesDataset``) lives in memory; mmdet's
``CocoDataset`` and any other program read files. This writes, under
``--out``, for each split ``NAME`` (scenes ``0..N-1`` of its seed, the same
images the in-memory dataset gives):

- ``images/NAME/<index>.png``: the scene (8-bit BGR PNG, lossless);
- ``masks/NAME/<index>.png``: its foreground mask, 255 on objects
  (``CocoBoxDataset(mask_prefix='masks')`` reads it for PxAP);
- ``annotations/NAME.json``: COCO boxes of every object (``file_name``
  ``NAME/<index>.png`` relative to ``images/``, ``bbox`` ``[x, y, w, h]``
  in pixels, categories the shape families).

Existing images and masks are kept (every file is written atomically, so
an existing one is complete): re-running resumes. The json files are
rewritten.

Example:
    python tools/export_scenes.py --out data/scenes   # train, val, test
"""
import argparse
import json
import os.path as osp
import sys
from typing import List, Tuple

import numpy as np
from mmengine.utils import ProgressBar

from mmc2am.datasets import SHAPE_FAMILIES, SyntheticScenesDataset
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
    return parser.parse_args(argv)


def parse_split(text: str) -> Tuple[str, int, int]:
    """``'train:0:1000'`` as ``('train', 0, 1000)``."""
    try:
        name, seed, num = text.split(':')
        return name, int(seed), int(num)
    except ValueError:
        raise ValueError(f'--splits entry "{text}" is not NAME:SEED:NUMBER '
                         '(e.g. train:0:1000).') from None


def export_split(out: str, name: str, seed: int, num: int,
                 size: int) -> Tuple[str, int]:
    """Write one split; returns its json path and the images written."""
    dataset = SyntheticScenesDataset(
        num_scenes=num, seed=seed, img_size=size, pipeline=[])
    images: List[dict] = []
    annotations: List[dict] = []
    written = 0
    progress = ProgressBar(num)
    for index in range(num):
        info = dataset.get_data_info(index)
        file_name = f'{name}/{index:05d}.png'
        img_path = osp.join(out, 'images', file_name)
        mask_path = osp.join(out, 'masks', file_name)
        if not osp.isfile(img_path):
            write_png(img_path, info['img'])
            written += 1
        if not osp.isfile(mask_path):
            write_png(mask_path, info['gt_seg_map'].astype(np.uint8) * 255)
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


def main(argv=None) -> int:
    args = parse_args(argv)
    splits = [parse_split(text) for text in args.splits]
    if osp.isdir(args.out):
        remove_stale_temp_files(args.out)  # left by a killed run
    for name, seed, num in splits:
        json_path, written = export_split(args.out, name, seed, num, args.size)
        print(f'{name}: {num} scenes (seed {seed}, {written} images written '
              f'now) and {json_path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
