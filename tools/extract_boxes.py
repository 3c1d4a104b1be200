"""Write one class-agnostic pseudo box per training image as COCO json.

The trained C²AM (its saved polarity applied) maps every training image;
the box of the map's largest contour at ``--threshold`` (the reference
procedure, :func:`mmc2am.functional.boxes.maps_to_boxes`) is mapped back to
the original image and written as a COCO json that pycocotools and mmdet's
``CocoDataset`` (``metainfo=dict(classes=('object',))``) read: the pseudo
ground truth of a PSOL-style localizer (method.md section 5.5).

Images and transforms: the config's ``extract_dataset`` if it has one,
else ``train_dataloader.dataset``, with the config's ``extract_pipeline``
if it has one, else its ``test_pipeline`` (the recipes': resize 480,
centre crop 448). Maps stay in the frame of the transformed image. To map a
box back, a probe box (the central half of the image) goes through the same
transforms as the image (mmcv's ``Resize``, ``CenterCrop`` and ``Pad``
update ``gt_bboxes``), which measures the scale and offset of each axis;
flips are refused. A box is read as pixel edges ``[x0, y0, x1, y1]`` and
clipped to the image, so a box that touches the crop's edge ends there.

Output (``--out``):

- ``images``: ``id`` (dataset index + 1), ``file_name`` (relative to
  ``info.image_root``, the dataset's image folder; the ``data_prefix.img``
  of the mmdet config), ``height``, ``width`` (original image);
- ``annotations``: one per image, ``bbox`` ``[x, y, w, h]`` in original
  pixels, ``area = w * h``, ``iscrowd`` 0, ``category_id`` 1;
- ``categories``: ``[{'id': 1, 'name': 'object'}]``; ``info``: the
  settings and counts.

Defined results for the hard cases:

- a map whose largest contour leaves no box (an empty or constant map, or
  a box of zero area after mapping) gets no annotation with the default
  ``--on-empty skip`` (the image stays in ``images``, and mmdet's
  ``filter_empty_gt`` drops it from training), or the whole image with
  ``--on-empty whole``; either way it is listed;
- a map with NaN or infinite values gets no annotation and is listed as a
  model problem;
- an image that cannot be read is not in the json and is listed; it is
  retried by the next run. The exit status is non-zero only with
  ``--strict`` and some image listed (empty maps are not problems).

Resuming: every image's result is appended to ``<out>.jsonl`` (flushed per
batch; a line cut by a kill is dropped on the next run) and the json is
written from it atomically at the end, so a re-run only maps the images
that have no result yet (none when complete; unreadable ones are tried
again). The jsonl starts with the settings; a re-run with other settings is
refused (delete the jsonl to start over).

Example:
    python tools/extract_boxes.py configs/wsol/c2am_r50_cub_wsol.py \\
        work_dirs/c2am_r50_cub_wsol/epoch_20.pth --threshold 0.23 \\
        --out data/CUB_200_2011/c2am_pseudo_boxes.json
"""
import argparse
import glob
import json
import os
import os.path as osp
import sys
from typing import Dict, List, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.utils import ProgressBar
from torch.utils.data import DataLoader

import mmc2am  # noqa: F401  registers mmc2am's modules
from mmc2am.apis.dataset_items import SafeItems, build_load_only_dataset
from mmc2am.apis.inference import init_c2am
from mmc2am.datasets.image_folder import format_names
from mmc2am.functional.boxes import maps_to_boxes
from mmc2am.utils.io import atomic_output, describe_changes
from mmc2am.utils.tool_config import (add_inference_args, add_model_args,
                                      load_inference_config, model_settings)

CATEGORIES = [{'id': 1, 'name': 'object'}]
# Meta keys the extraction needs from the packed samples.
META_KEYS = ('img_path', 'ori_shape', 'img_shape', 'flip', 'gt_bboxes')
# Statuses recorded per image; the first three are final.
OK, EMPTY, BAD_MAP, UNREADABLE = 'ok', 'empty', 'bad_map', 'unreadable'


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_args(parser, 'the C²AM config', 'the trained C²AM checkpoint')
    parser.add_argument(
        '--threshold',
        type=float,
        required=True,
        help='box threshold tau (relative to each map\'s maximum), chosen '
        'on a held-out split (tools/test.py reports it)')
    parser.add_argument('--out', required=True, help='output COCO json')
    parser.add_argument(
        '--on-empty',
        choices=['skip', 'whole'],
        default='skip',
        help='image whose map gives no box: no annotation (skip) or the '
        'whole image (whole)')
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument(
        '--image-root',
        help='folder the file names are relative to (default: the '
        'dataset\'s image folder)')
    add_inference_args(
        parser, strict_help='exit with status 1 if an image could not be '
        'read or mapped')
    return parser.parse_args(argv)


# ----------------------------------------------------------- the images
class _ProbeBox:
    """Set ``gt_bboxes`` to the central half of the loaded image (the probe
    whose transformed copy gives the map-to-image geometry)."""

    def __call__(self, results: dict) -> dict:
        height, width = results['img'].shape[:2]
        results['gt_bboxes'] = probe_box(height, width)
        results.pop('gt_bboxes_labels', None)
        return results


def probe_box(height: int, width: int) -> np.ndarray:
    """The probe of a ``height x width`` image (np.ndarray[1, 4])."""
    return np.array([[width / 4, height / 4, 3 * width / 4, 3 * height / 4]],
                    dtype=np.float64)


def extraction_pipeline(cfg: Config) -> List:
    """``extract_pipeline`` or ``test_pipeline`` of the config, with the
    probe inserted after the loading transforms and the meta keys the
    extraction reads added to ``PackSegInputs``."""
    steps = cfg.get('extract_pipeline', cfg.get('test_pipeline'))
    if not steps:
        raise KeyError(f'{cfg.filename} has neither extract_pipeline nor '
                       'test_pipeline: the tool needs the transforms of the '
                       'extraction input (e.g. resize 480, centre crop 448).')
    steps = [dict(step) for step in steps]
    last_load = max(
        [i for i, s in enumerate(steps) if s['type'].startswith('Load')],
        default=-1)
    pack = steps[-1]
    if not pack['type'].endswith('PackSegInputs'):
        raise ValueError(f'the extraction pipeline of {cfg.filename} must '
                         f'end with PackSegInputs; it ends with {pack}.')
    pack['meta_keys'] = tuple(
        dict.fromkeys(tuple(pack.get('meta_keys', ())) + META_KEYS))
    return steps[:last_load + 1] + [_ProbeBox()] + steps[last_load + 1:]


def build_dataset(cfg: Config):
    """The images to map: ``extract_dataset`` or the training dataset, in
    test mode, its pipeline left out (see :class:`SafeItems`)."""
    return build_load_only_dataset(
        cfg.get('extract_dataset') or cfg.train_dataloader.dataset)


# --------------------------------------------------------- the geometry
def to_original(box: np.ndarray, probe: np.ndarray, moved: np.ndarray,
                ori_shape: Tuple[int, int]) -> List[float]:
    """A box of the transformed image as COCO ``[x, y, w, h]`` in the
    original image.

    Args:
        box (np.ndarray[4]): ``[x0, y0, x1, y1]`` pixel edges in the
            transformed image.
        probe (np.ndarray[4]): The probe in the original image.
        moved (np.ndarray[4]): The probe after the transforms.
        ori_shape (tuple[int, int]): ``(H, W)`` of the original image.

    Returns:
        list[float]: ``[x, y, w, h]`` clipped to the image, 2 decimals.
    """
    scale = (moved[2:] - moved[:2]) / (probe[2:] - probe[:2])
    offset = moved[:2] - probe[:2] * scale
    low = (np.asarray(box[:2], np.float64) - offset) / scale
    high = (np.asarray(box[2:], np.float64) - offset) / scale
    size = np.array(ori_shape[::-1], dtype=np.float64)
    low, high = np.clip(low, 0, size), np.clip(high, 0, size)
    return [round(float(v), 2) for v in (*low, *(high - low))]


def check_geometry(sample, probe: np.ndarray) -> np.ndarray:
    """The transformed probe of a packed sample, checked (np.ndarray[4])."""
    path = sample.img_path
    if sample.get('flip', False):
        raise ValueError(f'{path}: the extraction pipeline flipped the image; '
                         'remove RandomFlip from it.')
    moved = np.asarray(sample.gt_bboxes, np.float64).reshape(-1)
    height, width = sample.img_shape[:2]
    inside = (
        moved[0] > 0 and moved[1] > 0 and moved[2] < width
        and moved[3] < height and (moved[2:] > moved[:2]).all())
    if not inside:
        raise ValueError(
            f'{path}: the extraction transforms cut into the central half of '
            f'the image (probe {probe.tolist()} became {moved.tolist()} in a '
            f'{width}x{height} input), so boxes cannot be mapped back; use '
            'a pipeline that keeps it (e.g. resize 480, centre crop 448).')
    return moved


# ------------------------------------------------------------- records
class Records:
    """The per-image results of ``<out>.jsonl``: read, checked, appended.

    Args:
        path (str): The jsonl file.
        settings (dict): What the results depend on (its first line).
    """

    def __init__(self, path: str, settings: dict) -> None:
        self.path = path
        self.by_index: Dict[int, dict] = {}
        if osp.isfile(path):
            self._load(settings)
        else:
            with atomic_output(path) as tmp, open(tmp, 'w') as f:
                f.write(json.dumps(dict(settings=settings)) + '\n')

    def _load(self, settings: dict) -> None:
        with open(self.path) as f:
            lines = f.read().split('\n')
        complete, cut = lines[:-1], lines[-1]  # '' after a final newline
        try:
            header = json.loads(complete[0])['settings']
        except (IndexError, ValueError, KeyError):
            raise ValueError(
                f'{self.path} is not a results file of extract_boxes; delete '
                'it or choose another --out.') from None
        if header != settings:
            raise ValueError(
                f'{self.path} holds results for other settings '
                f'({describe_changes(header, settings)}). Delete it to '
                'start over, or run with the same settings to resume.')
        for line in complete[1:]:
            record = json.loads(line)
            self.by_index[record['index']] = record
        if cut:  # the last line was cut by a kill: keep the whole ones
            with atomic_output(self.path) as tmp, open(tmp, 'w') as f:
                f.write('\n'.join(complete) + '\n')

    def pending(self, num: int) -> List[int]:
        """Indices without a final result."""
        return [
            i for i in range(num)
            if self.by_index.get(i, {}).get('status') in (None, UNREADABLE)
        ]

    def append(self, records: List[dict]) -> None:
        """Add results; they reach the disk before this returns."""
        with open(self.path, 'a') as f:
            for record in records:
                f.write(json.dumps(record) + '\n')
                self.by_index[record['index']] = record
            f.flush()
            os.fsync(f.fileno())


# ------------------------------------------------------------- the run
def file_name(img_path: str, root: str) -> str:
    """``img_path`` relative to ``root``, or absolute when outside it."""
    if root:
        relative = osp.relpath(osp.abspath(img_path), osp.abspath(root))
        if not relative.startswith('..'):
            return relative.replace(os.sep, '/')
    return osp.abspath(img_path)


@torch.no_grad()
def predict(model: torch.nn.Module, packed: List[dict]) -> list:
    """The model's samples of packed images, batched by input size (mmseg's
    data preprocessor stacks only equal sizes at test time)."""
    samples = [None] * len(packed)
    by_shape: Dict[tuple, List[int]] = {}
    for i, item in enumerate(packed):
        by_shape.setdefault(tuple(item['inputs'].shape), []).append(i)
    for group in by_shape.values():
        data = model.data_preprocessor(
            pseudo_collate([packed[i] for i in group]), False)
        out = model.predict(data['inputs'], data['data_samples'])
        for i, sample in zip(group, out):
            samples[i] = sample
    return samples


def map_batch(model: torch.nn.Module, items: List[Tuple[int, dict, str]],
              args: argparse.Namespace, root: str) -> List[dict]:
    """Results of one batch of readable images."""
    samples = predict(model, [packed for _, packed, _ in items])
    records = []
    for (index, _, _), sample in zip(items, samples):
        ori_shape = tuple(int(v) for v in sample.ori_shape[:2])
        record = dict(
            index=index,
            file_name=file_name(sample.img_path, root),
            height=ori_shape[0],
            width=ori_shape[1])
        m = sample.seg_logits.data[0].float().cpu().numpy()
        probe = probe_box(*ori_shape).reshape(-1)
        moved = check_geometry(sample, probe)
        if not np.isfinite(m).all():
            bad = int((~np.isfinite(m)).sum())
            record.update(
                status=BAD_MAP,
                message=f'{sample.img_path}: the map has {bad} NaN or '
                'infinite values (diverged training or a bad checkpoint?)')
        else:
            box = maps_to_boxes(m[None], [args.threshold])[0, 0]
            bbox = to_original(box, probe, moved, ori_shape)
            if bbox[2] > 0 and bbox[3] > 0:
                record.update(status=OK, bbox=bbox)
            else:
                record.update(
                    status=EMPTY,
                    message=f'{sample.img_path}: the map gives no box at '
                    f'threshold {args.threshold:g} (empty or constant map)')
        records.append(record)
    return records


def coco_json(records: Dict[int, dict], args: argparse.Namespace,
              settings: dict) -> dict:
    """The COCO content of the results (see the module doc)."""
    images, annotations = [], []
    counts = {OK: 0, EMPTY: 0, BAD_MAP: 0, UNREADABLE: 0}
    for index in sorted(records):
        record = records[index]
        counts[record['status']] += 1
        if record['status'] == UNREADABLE:
            continue
        images.append(
            dict(
                id=index + 1,
                file_name=record['file_name'],
                height=record['height'],
                width=record['width']))
        bbox = record.get('bbox')
        if record['status'] == EMPTY and args.on_empty == 'whole':
            bbox = [0.0, 0.0, float(record['width']), float(record['height'])]
        if bbox is not None:
            annotations.append(
                dict(
                    id=len(annotations) + 1,
                    image_id=index + 1,
                    category_id=1,
                    bbox=bbox,
                    area=round(bbox[2] * bbox[3], 2),
                    iscrowd=0))
    info = dict(
        description='C2AM pseudo boxes (tools/extract_boxes.py)',
        **settings,
        counts=counts)
    return dict(
        info=info,
        images=images,
        annotations=annotations,
        categories=CATEGORIES)


def remove_own_temp_files(*paths: str) -> None:
    """Delete the temporary files a killed run of this tool left beside
    its outputs (``atomic_output``'s ``.<name>.<pid>.tmp``)."""
    for path in paths:
        folder, name = osp.split(osp.abspath(path))
        for stale in glob.glob(osp.join(folder, f'.{name}.*.tmp')):
            os.remove(stale)


def run(args: argparse.Namespace) -> Tuple[dict, List[str]]:
    """Map the pending images, write the json.

    Returns:
        tuple: The json content and the listed problems.
    """
    cfg = load_inference_config(args)
    dataset = build_dataset(cfg)
    root = args.image_root
    if root is None:
        root = getattr(dataset, 'data_prefix', {}).get('img_path', '')
    settings = dict(
        **model_settings(args),
        threshold=args.threshold,
        num_images=len(dataset),
        image_root=osp.abspath(root) if root else '')
    sidecar = args.out + '.jsonl'
    remove_own_temp_files(args.out, sidecar)
    records = Records(sidecar, settings)
    pending = records.pending(len(dataset))
    if pending:
        model = init_c2am(cfg, args.checkpoint, args.device)
        loader = DataLoader(
            SafeItems(dataset, pending, extraction_pipeline(cfg)),
            batch_size=args.batch_size,
            num_workers=args.workers,
            collate_fn=list)
        progress = ProgressBar(len(pending))
        for batch in loader:
            readable = [item for item in batch if item[1] is not None]
            done = [
                dict(index=index, status=UNREADABLE, message=error)
                for index, packed, error in batch if packed is None
            ]
            if readable:
                done += map_batch(model, readable, args, root)
            records.append(done)
            for _ in batch:
                progress.update()
        print()
    content = coco_json(records.by_index, args, settings)
    with atomic_output(args.out) as tmp, open(tmp, 'w') as f:
        json.dump(content, f)
    problems = [
        r['message'] for _, r in sorted(records.by_index.items())
        if r['status'] in (BAD_MAP, UNREADABLE)
    ]
    empty = [
        r['message'] for _, r in sorted(records.by_index.items())
        if r['status'] == EMPTY
    ]
    counts = content['info']['counts']
    print(f'{len(content["annotations"])} boxes for {len(content["images"])} '
          f'images written to {args.out} ({len(pending)} mapped now; '
          f'{counts[EMPTY]} without box, {counts[BAD_MAP]} bad maps, '
          f'{counts[UNREADABLE]} unreadable). Image root: '
          f'{settings["image_root"] or "(absolute paths)"}')
    if empty:
        what = 'the whole image' if args.on_empty == 'whole' else \
            'no annotation'
        print(f'Images whose map gives no box ({what}):\n'
              f'{format_names(empty)}')
    if problems:
        print(f'Images not boxed:\n{format_names(problems)}')
    return content, problems


def main(argv=None) -> int:
    args = parse_args(argv)
    _, problems = run(args)
    return 1 if problems and args.strict else 0


if __name__ == '__main__':
    sys.exit(main())
