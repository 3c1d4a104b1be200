"""Write the multi-scale C²AM object map of every image of a dataset.

For each image of the config's dataset (``train_dataloader.dataset``, or
``--split val|test``: that dataloader's), or instead of ``--img-dir``
(every image under it, or those named by ``--list``: the first word of
each line, as in VOC ``ImageSets`` lists and image-level label files, with
``--img-suffix`` appended, by default the first listed image's ending),
the trained C²AM (its saved polarity applied with ``--polarity``) maps the
image at every ``--scales`` factor and its horizontal flip, and the maps
are fused (method.md section 6.2,
:func:`mmc2am.apis.multiscale.multiscale_map`): the input of background
cues (``mmc2am.functional.cues.background_cue``).

Output per image ``<name>`` (the image file's stem; for
``SyntheticScenesDataset`` its virtual ``img_path``'s; with ``--img-dir``
its path relative to the folder less the ending, so a listed name):

- ``OUT/<name>.npy``: float16 ``np.ndarray[H, W]`` in ``[0, 1]``, maximum
  1 (all zeros when no map is positive), in original image pixels;
- ``OUT/overlays/<name>.png`` with ``--overlays``: the map as a heat
  overlay on the image;
- ``CUE_DIR/<name>.png`` with ``--cue-dir``: the background cue (method.md
  section 6.3, :func:`mmc2am.functional.cues.background_cue`): foreground
  where the saved (float16) map exceeds ``--cue-threshold`` (0.3), refined
  by the dense CRF on the image with the reference's settings (unless
  ``--no-crf``); uint8, foreground 255, the size of the image. An image
  whose map is already saved is not mapped again: its cue comes from the
  saved map, so cues of other settings (another ``--cue-dir``) are cheap.

Files are written atomically, so an existing one is complete: a re-run
maps only the images with missing outputs. ``OUT/settings.json`` records
the settings, the images' source included (the config's dataset, or the
folder, list and ending); a re-run with others is refused (use another
``--out``); ``CUE_DIR/settings.json`` likewise records the cue settings.
Images that cannot be read (or give NaN maps), and listed images that do
not exist, are skipped and listed at the end; they are tried again by the
next run. The exit status is non-zero only with ``--strict`` and some image
listed.

Example:
    python tools/infer_maps.py configs/c2am/c2am_r50_image_folder.py \\
        work_dirs/c2am_r50_image_folder/epoch_10.pth --out work_dirs/maps \\
        --cue-dir work_dirs/cues
    python tools/infer_maps.py configs/demo/c2am_scenes.py \\
        work_dirs/demo/c2am/iter_300.pth \\
        --img-dir data/scenes_voc/JPEGImages \\
        --list data/scenes_voc/ImageSets/Segmentation/train.txt \\
        --out work_dirs/maps
"""
import argparse
import json
import os.path as osp
import sys
from typing import List, Tuple

import numpy as np
from mmengine.config import Config
from mmengine.dataset import BaseDataset
from mmengine.visualization import Visualizer

import mmc2am  # noqa: F401  registers mmc2am's modules
from mmc2am.apis.dataset_items import (build_folder_dataset,
                                       build_load_only_dataset, folder_source,
                                       output_names, readable_items)
from mmc2am.apis.inference import init_c2am
from mmc2am.apis.multiscale import multiscale_map
from mmc2am.datasets.transforms.loading import read_image_bgr8
from mmc2am.functional.cues import background_cue
from mmc2am.utils.io import (atomic_output, check_settings,
                             remove_stale_temp_files)
from mmc2am.utils.png import write_png
from mmc2am.utils.tool_config import (add_inference_args, add_model_args,
                                      add_multiscale_args,
                                      load_inference_config, model_settings,
                                      report_problems)
from mmc2am.visualization.map_boxes import draw_map_and_boxes

SPLITS = dict(
    train='train_dataloader', val='val_dataloader', test='test_dataloader')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_args(parser, 'the C²AM config', 'the trained C²AM checkpoint')
    parser.add_argument('--out', required=True, help='output folder')
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        '--split',
        choices=list(SPLITS),
        default='train',
        help='whose dataloader\'s dataset to map (default: train)')
    source.add_argument(
        '--img-dir', help='map the images of this folder instead')
    parser.add_argument(
        '--list',
        help='with --img-dir: file whose lines start with the names of the '
        'images to map (e.g. VOC ImageSets); default: every image under '
        '--img-dir')
    parser.add_argument(
        '--img-suffix',
        help='with --list: appended to each name, e.g. .jpg (default: the '
        'ending the first listed image has)')
    add_multiscale_args(parser)
    parser.add_argument(
        '--polarity',
        choices=['sign', 'reference'],
        default='sign',
        help='a flipped model\'s map: -x (sign, default) or 1 - x '
        '(reference, as the reference\'s WSSS inference)')
    parser.add_argument(
        '--overlays',
        action='store_true',
        help='also draw OUT/overlays/<name>.png')
    parser.add_argument(
        '--cue-dir', help='also write background cue PNGs to this folder')
    parser.add_argument(
        '--cue-threshold',
        type=float,
        default=0.3,
        help='foreground threshold of the cues (default: 0.3)')
    parser.add_argument(
        '--no-crf',
        action='store_true',
        help='cues without the dense CRF (the thresholded map)')
    add_inference_args(
        parser, strict_help='exit with status 1 if an image could not be '
        'mapped')
    args = parser.parse_args(argv)
    if not args.img_dir and (args.list or args.img_suffix is not None):
        parser.error('--list and --img-suffix go with --img-dir')
    return args


class _ReadImage:
    """Load ``img`` (uint8 BGR) unless the dataset already holds it (as
    ``SyntheticScenesDataset`` does)."""

    def __call__(self, results: dict) -> dict:
        if results.get('img') is None:
            results['img'] = read_image_bgr8(results['img_path'])
        return results


def save_map(path: str, obj_map: np.ndarray) -> None:
    """Write a map as float16 ``.npy``, atomically."""
    with atomic_output(path) as tmp, open(tmp, 'wb') as f:
        np.save(f, obj_map.astype(np.float16))


def load_map(path: str) -> np.ndarray:
    """Read a map written by :func:`save_map` as float32."""
    return np.load(path).astype(np.float32)


def build_dataset(cfg: Config,
                  args: argparse.Namespace) -> Tuple[BaseDataset, dict]:
    """The images to map, and their source as ``settings.json`` records it
    (a re-run on other images is refused).

    Returns:
        tuple: (the dataset, built for loading only; the source: the
        ``--img-dir`` folder, ``--list`` and ``--img-suffix``, or the split
        and its dataset config).
    """
    if args.img_dir:
        dataset = build_folder_dataset(args.img_dir, args.list,
                                       args.img_suffix)
        return dataset, folder_source(dataset, args.img_dir, args.list)
    loader_cfg = cfg.get(SPLITS[args.split])
    if not loader_cfg or 'dataset' not in loader_cfg:
        raise KeyError(f'{cfg.filename} has no {SPLITS[args.split]}.dataset '
                       f'for --split {args.split}.')
    dataset_cfg = dict(loader_cfg['dataset'], pipeline=[])
    # As the JSON file holds it (tuples as lists), to compare on re-runs.
    dataset_cfg = json.loads(json.dumps(dataset_cfg, default=str))
    return build_load_only_dataset(loader_cfg['dataset']), dict(
        split=args.split, dataset=dataset_cfg)


def run(args: argparse.Namespace) -> Tuple[int, int, List[str]]:
    """Map the images with missing outputs.

    Returns:
        tuple: (images mapped now, images already done, problems).
    """
    cfg = load_inference_config(args)
    if min(args.scales) <= 0:
        raise ValueError(f'--scales must be positive; got {args.scales}.')
    dataset, images = build_dataset(cfg, args)
    names = output_names(dataset, args.img_dir)
    # Listed images that do not exist (--list).
    problems = [
        f'{path}: image file not found'
        for path in getattr(dataset, 'skipped', [])
    ]
    not_found = len(problems)
    remove_stale_temp_files(args.out)
    identity = model_settings(args)
    check_settings(
        args.out,
        dict(
            **identity,
            images=images,
            scales=args.scales,
            flip=not args.no_flip,
            polarity=args.polarity))
    if args.cue_dir:
        if not 0 <= args.cue_threshold < 1:
            raise ValueError('--cue-threshold must lie in [0, 1); got '
                             f'{args.cue_threshold}.')
        remove_stale_temp_files(args.cue_dir)
        check_settings(
            args.cue_dir,
            dict(
                maps=osp.abspath(args.out),
                checkpoint_sha256=identity['checkpoint_sha256'],
                threshold=args.cue_threshold,
                crf=not args.no_crf))

    def outputs(name: str) -> List[str]:
        paths = [osp.join(args.out, name + '.npy')]
        if args.overlays:
            paths.append(osp.join(args.out, 'overlays', name + '.png'))
        if args.cue_dir:
            paths.append(osp.join(args.cue_dir, name + '.png'))
        return paths

    pending = [
        i for i, name in enumerate(names)
        if not all(osp.isfile(p) for p in outputs(name))
    ]
    if pending:
        # Images whose map is saved (only a cue or overlay is missing) are
        # not mapped again.
        model = None
        if not all(osp.isfile(outputs(names[i])[0]) for i in pending):
            model = init_c2am(cfg, args.checkpoint, args.device)
        visualizer = Visualizer(name=f'infer_maps_{id(args)}')
        for index, sample in readable_items(dataset, pending, [_ReadImage()],
                                            args.workers, problems):
            paths = outputs(names[index])
            try:
                if osp.isfile(paths[0]):
                    obj_map = load_map(paths[0])
                else:
                    obj_map = multiscale_map(model, sample['img'], args.scales,
                                             not args.no_flip, args.polarity)
                    save_map(paths[0], obj_map)
                    # The cue of the saved map, as a later run would make.
                    obj_map = load_map(paths[0])
                if args.cue_dir:
                    cue = background_cue(obj_map, sample['img'],
                                         args.cue_threshold, not args.no_crf)
            except ValueError as err:
                problems.append(f'{sample["img_path"]}: {err}')
                continue
            if args.cue_dir:
                write_png(paths[-1], cue)
            if args.overlays and not osp.isfile(paths[1]):
                drawing = draw_map_and_boxes(visualizer,
                                             sample['img'][..., ::-1],
                                             obj_map, np.zeros((0, 4)),
                                             np.zeros((0, 4)))
                write_png(paths[1], drawing[..., ::-1])
    written = len(pending) - (len(problems) - not_found)
    return written, len(names) - len(pending), problems


def main(argv=None) -> int:
    args = parse_args(argv)
    written, kept, problems = run(args)
    print(f'{written} maps written to {args.out}, {kept} already there, '
          f'{len(problems)} images not mapped.')
    return report_problems(problems, 'Images not mapped', args.strict)


if __name__ == '__main__':
    sys.exit(main())
