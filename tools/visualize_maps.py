"""Draw C²AM maps with predicted (green) and ground-truth (red) boxes.

For the first ``--num`` images of the config's test split (or
``--split held_out``: the held-out split of its ``WSOLTestLoop``), the map
of the trained C²AM (its saved polarity applied) is painted as a heat
overlay on the transformed input, with the box of its largest contour at
``--threshold`` and the ground-truth boxes of the sample
(:func:`mmc2am.visualization.draw_wsol_sample`, through mmengine's
visualizer).

Backends: ``local`` (default) writes ``<out>/<image name>.png``, each
atomically; existing drawings are kept, so a re-run resumes.
``tensorboard`` logs the drawings to a TensorBoard event file under
``<out>`` (mmengine's ``TensorboardVisBackend``; needs the ``tensorboard``
package).

Example:
    python tools/visualize_maps.py configs/wsol/c2am_scenes_wsol.py \\
        work_dirs/demo/c2am/iter_200.pth --threshold 0.3 --out work_dirs/vis
"""
import argparse
import os.path as osp
import sys
from typing import List

import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.utils import ProgressBar
from mmengine.visualization import Visualizer
from mmseg.registry import DATASETS

import mmc2am  # noqa: F401  registers mmc2am's modules
from mmc2am.apis.inference import init_c2am
from mmc2am.utils.io import remove_stale_temp_files
from mmc2am.utils.png import write_png
from mmc2am.utils.tool_config import (add_inference_args, add_model_args,
                                      load_inference_config)
from mmc2am.visualization.wsol_sample import draw_wsol_sample, input_rgb


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_args(parser, 'a C²AM WSOL config',
                   'the trained C²AM checkpoint')
    parser.add_argument(
        '--threshold', type=float, required=True, help='box threshold tau')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument(
        '--num', type=int, default=16, help='images to draw (from the first)')
    parser.add_argument(
        '--split',
        choices=['test', 'held_out'],
        default='test',
        help='test_dataloader, or the held-out split of test_cfg')
    parser.add_argument(
        '--scale', type=int, default=1, help='enlarge drawings')
    parser.add_argument(
        '--backend', choices=['local', 'tensorboard'], default='local')
    add_inference_args(parser, workers=False)
    return parser.parse_args(argv)


def build_split(cfg: Config, split: str):
    """The dataset of the chosen split (with its test pipeline)."""
    if split == 'test':
        loader = cfg.get('test_dataloader')
    else:
        loader = cfg.get('test_cfg', {}).get('held_out_dataloader')
    if not loader:
        raise KeyError(f'{cfg.filename} has no {split} split (test_dataloader'
                       ' / test_cfg.held_out_dataloader).')
    return DATASETS.build(loader['dataset'])


def make_visualizer(args: argparse.Namespace) -> Visualizer:
    """A visualizer whose backend (TensorBoard only) stores the drawings;
    the local backend's files are written here instead, atomically."""
    backends = [] if args.backend == 'local' else [
        dict(type='TensorboardVisBackend')
    ]
    return Visualizer(
        name=f'visualize_maps_{id(args)}',
        vis_backends=backends,
        save_dir=args.out)


def draw(args: argparse.Namespace) -> List[str]:
    """Draw the images; returns the files written (local backend)."""
    cfg = load_inference_config(args)
    dataset = build_split(cfg, args.split)
    indices = list(range(min(args.num, len(dataset))))
    names = [
        osp.splitext(osp.basename(dataset.get_data_info(i)['img_path']))[0]
        for i in indices
    ]
    paths = [
        osp.join(args.out, f'{i:05d}_{n}.png') for i, n in zip(indices, names)
    ]
    if args.backend == 'local':
        if osp.isdir(args.out):
            remove_stale_temp_files(args.out)
        indices = [i for i, p in zip(indices, paths) if not osp.isfile(p)]
    if not indices:
        return []
    model = init_c2am(cfg, args.checkpoint, args.device)
    visualizer = make_visualizer(args)
    written = []
    progress = ProgressBar(len(indices))
    for index in indices:
        item = dataset[index]
        data = model.data_preprocessor(pseudo_collate([item]), False)
        with torch.no_grad():
            sample = model.predict(data['inputs'], data['data_samples'])[0]
        drawing = draw_wsol_sample(visualizer, input_rgb(item['inputs']),
                                   sample, args.threshold, args.scale)
        if args.backend == 'local':
            write_png(paths[index], drawing[..., ::-1])
            written.append(paths[index])
        else:
            visualizer.add_image(osp.basename(paths[index])[:-4], drawing)
        progress.update()
    print()
    return written


def main(argv=None) -> int:
    args = parse_args(argv)
    written = draw(args)
    where = args.out if args.backend == 'local' else \
        f'a TensorBoard log under {args.out}'
    print(f'{len(written) if args.backend == "local" else args.num} '
          f'drawings in {where} (map overlay, predicted box green, ground '
          'truth red).')
    return 0


if __name__ == '__main__':
    sys.exit(main())
