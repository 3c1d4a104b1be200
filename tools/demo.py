"""The embedded-default demo: C²AM trained and scored end to end on
procedural scenes, with nothing to download.

Stages (each one's checkpoint is kept in the work dir; a re-run skips a
stage whose checkpoint exists, unless ``--force``):

1. **init**: the initialisation stage (``configs/demo/init_*_scenes.py``),
   an image classifier trained on image-level labels of the training
   scenes, the analogue of an ImageNet-supervised backbone;
2. **c2am**: C²AM (``configs/demo/c2am_scenes.py``) whose backbone is
   loaded from stage 1's checkpoint, trained with its label-free loss;
3. **evaluation**: object maps of the validation and test scenes; the box
   threshold (GT-known) and the mask threshold (mask IoU) are chosen on the
   validation scenes and applied to the test scenes, beside a box and a mask
   covering the whole image; the first test scenes are drawn (map overlay,
   predicted boxes green, ground truth red) into ``<work-dir>/vis/``.

Example:
    python tools/demo.py                  # the defaults, ~10 min on 2 cores
    python tools/demo.py --force          # retrain both stages
"""
import argparse
import json
import os
import os.path as osp
import time
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config, DictAction
from mmengine.dataset import pseudo_collate
from mmengine.logging import print_log
from mmengine.registry import init_default_scope
from mmengine.runner import Runner, set_random_seed
from mmengine.utils import ProgressBar
from mmengine.visualization import Visualizer
from mmseg.registry import DATASETS

import mmc2am  # noqa: F401  registers mmc2am's modules
from mmc2am.apis.inference import init_c2am
from mmc2am.apis.multiscale import multiscale_map
from mmc2am.functional.boxes import maps_to_boxes
from mmc2am.functional.cues import background_cue
from mmc2am.functional.localization import (binary_mask_iou, gt_known_curve,
                                            mask_iou_curve,
                                            whole_image_scores)
from mmc2am.utils.io import atomic_output
from mmc2am.utils.png import write_png
from mmc2am.visualization.map_boxes import draw_map_and_boxes, grid

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
THRESHOLDS = np.arange(0, 1, 0.01)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train and evaluate C²AM on procedural scenes')
    parser.add_argument(
        '--work-dir', default='work_dirs/demo', help='outputs of all stages')
    parser.add_argument(
        '--init-config',
        default=osp.join(ROOT, 'configs/demo/init_textures_scenes.py'),
        help='config of the initialisation stage')
    parser.add_argument(
        '--c2am-config',
        default=osp.join(ROOT, 'configs/demo/c2am_scenes.py'),
        help='config of C²AM (its backbone init_cfg is pointed at the '
        'initialisation checkpoint)')
    parser.add_argument(
        '--init-cfg-options',
        nargs='+',
        action=DictAction,
        help='key=value overrides of the init config (as tools/train.py '
        '--cfg-options), e.g. model.num_classes=8')
    parser.add_argument(
        '--c2am-cfg-options',
        nargs='+',
        action=DictAction,
        help='key=value overrides of the C²AM config, e.g. '
        'model.loss.alpha=0.05')
    parser.add_argument(
        '--init-iters', type=int, help='override the init config iterations')
    parser.add_argument(
        '--c2am-iters', type=int, help='override the C²AM config iterations')
    parser.add_argument(
        '--batch-size', type=int, help='override both training batch sizes')
    parser.add_argument(
        '--num-train', type=int, help='override the number of train scenes')
    parser.add_argument(
        '--num-val', type=int, default=200, help='validation scenes')
    parser.add_argument(
        '--num-test', type=int, default=500, help='test scenes')
    parser.add_argument(
        '--img-size', type=int, help='override the scene size of all splits')
    parser.add_argument(
        '--val-seed', type=int, default=1, help='seed of the val scenes')
    parser.add_argument(
        '--test-seed', type=int, default=2, help='seed of the test scenes')
    parser.add_argument(
        '--num-vis', type=int, default=16, help='test scenes to draw')
    parser.add_argument(
        '--test-scale',
        type=float,
        default=2.0,
        help='evaluation input scale: maps of scenes enlarged by this factor '
        '(finer maps from the same model); 1 = as trained')
    parser.add_argument(
        '--no-test-flip',
        action='store_true',
        help='do not average the maps with those of the flipped scenes')
    parser.add_argument(
        '--cue-scales',
        type=float,
        nargs='+',
        default=[0.5, 1.0, 1.5, 2.0],
        help='scales (each with its flip) of the fused map the background '
        'cues are made from (method.md 6.2; the reference\'s by default)')
    parser.add_argument(
        '--cue-threshold',
        type=float,
        default=0.3,
        help='foreground threshold of the background cues before the dense '
        'CRF (the reference\'s 0.3; not tuned on the scenes)')
    parser.add_argument(
        '--no-cues',
        action='store_true',
        help='skip the mask IoU of the background cues')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument(
        '--force', action='store_true', help='rerun stages already done')
    return parser.parse_args(argv)


# ---------------------------------------------------------------- training
def stage_config(path: str,
                 work_dir: str,
                 args: argparse.Namespace,
                 iters: Optional[int],
                 options: Optional[dict] = None) -> Config:
    """Load a stage config and apply the command line's overrides.

    Args:
        path (str): Config file.
        work_dir (str): The stage's work dir.
        args (argparse.Namespace): Parsed arguments.
        iters (int, optional): Training iterations, replacing the config's
            (and the ends of its schedulers and checkpoint interval).
        options (dict, optional): ``key=value`` overrides merged into the
            config first (``--init-cfg-options`` / ``--c2am-cfg-options``).
            Defaults to None.

    Returns:
        Config: Ready for ``Runner.from_cfg``.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file "{path}" does not exist')
    cfg = Config.fromfile(path)
    if options:
        cfg.merge_from_dict(options)
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=args.seed)
    cfg.launcher = 'none'
    # One visualizer per stage: mmengine keeps them by name in one process.
    cfg.visualizer.name = f'demo_{osp.basename(work_dir)}'
    if iters is not None:
        cfg.train_cfg.max_iters = iters
        for scheduler in cfg.param_scheduler:
            scheduler.end = iters
        cfg.default_hooks.checkpoint.interval = iters
    loader = cfg.train_dataloader
    if args.batch_size is not None:
        loader.batch_size = args.batch_size
    if args.num_train is not None:
        loader.dataset.num_scenes = args.num_train
    if args.img_size is not None:
        loader.dataset.img_size = args.img_size
        size = (args.img_size, args.img_size)
        for transform in loader.dataset.get('pipeline', []):
            if transform.type == 'RandomResize':
                transform.scale = size
            elif transform.type == 'RandomCrop':
                transform.crop_size = size
    return cfg


def final_checkpoint(cfg: Config) -> str:
    """Where the Runner saves the last checkpoint of an iteration loop."""
    return osp.join(cfg.work_dir, f'iter_{cfg.train_cfg.max_iters}.pth')


def train_stage(cfg: Config, name: str, force: bool) -> Tuple[str, float]:
    """Train a stage with mmengine's Runner unless its checkpoint exists.

    Returns:
        tuple[str, float]: The checkpoint and the seconds spent (0 when
        skipped).
    """
    checkpoint = final_checkpoint(cfg)
    if osp.isfile(checkpoint) and not force:
        print_log(f'[{name}] {checkpoint} exists: stage skipped (--force '
                  'retrains it)', logger='current')
        return checkpoint, 0.0
    start = time.perf_counter()
    Runner.from_cfg(cfg).train()
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(
            f'[{name}] training ended without writing {checkpoint}; check '
            'default_hooks.checkpoint in the config.')
    return checkpoint, time.perf_counter() - start


# -------------------------------------------------------------- evaluation
def build_split(cfg: Config, args: argparse.Namespace, seed: int,
                num_scenes: int):
    """The C²AM config's test dataset with another seed and size."""
    dataset = Config(cfg.test_dataloader.dataset.to_dict())
    dataset.update(seed=seed, num_scenes=num_scenes)
    if args.img_size is not None:
        dataset.img_size = args.img_size
    return DATASETS.build(dataset)


@torch.no_grad()
def predict_split(model: torch.nn.Module,
                  dataset,
                  scale: float = 1.0,
                  flip: bool = False,
                  batch_size: int = 16) -> Dict[str, list]:
    """Object maps of every scene with its ground truth.

    The scenes are enlarged by ``scale`` before the model (its map gets
    ``scale`` times finer), optionally averaged with the flipped scenes'
    maps (pre-sigmoid, flipped back) and resized to the scene; with the
    model's ``test_cfg.map_space='probability'`` (the reference's), passed
    through the sigmoid too.

    Returns:
        dict: ``maps`` (np.ndarray[H, W] float32, polarity applied: logits,
        or probabilities in [0, 1]), ``masks`` (np.ndarray[H, W] uint8),
        ``boxes`` (np.ndarray[K, 4]), ``imgs`` (RGB uint8) per scene.
    """
    out: Dict[str, list] = dict(maps=[], masks=[], boxes=[], imgs=[])
    progress = ProgressBar(len(dataset))
    for start in range(0, len(dataset), batch_size):
        items = [
            dataset[i]
            for i in range(start, min(start + batch_size, len(dataset)))
        ]
        data = model.data_preprocessor(pseudo_collate(items), False)
        inputs = data['inputs']
        size = inputs.shape[2:]
        if scale != 1:
            inputs = F.interpolate(
                inputs, scale_factor=scale, mode='bilinear',
                align_corners=False)
        logits = model(inputs, mode='tensor')
        if flip:
            logits = (logits + model(inputs.flip(-1), mode='tensor').flip(-1)
                      ) / 2
        maps = model.in_map_space(
            F.interpolate(
                logits, size=size, mode='bilinear', align_corners=False))
        for item, sample, obj_map in zip(items, data['data_samples'], maps):
            out['maps'].append(obj_map[0].cpu().numpy())
            out['masks'].append(
                sample.gt_sem_seg.data[0].cpu().numpy().astype(np.uint8))
            out['boxes'].append(np.asarray(sample.gt_bboxes).reshape(-1, 4))
            img = item['inputs'].permute(1, 2, 0).numpy()  # BGR
            out['imgs'].append(np.ascontiguousarray(img[..., ::-1]))
            progress.update()
    print()
    return out


def cue_mask_iou(model: torch.nn.Module, split: Dict[str, list],
                 scales: List[float], threshold: float) -> float:
    """Mean IoU of the C²AM background cues with the object masks.

    The cues are the WSSS path's object masks (method.md 6.2-6.3): the map
    fused over ``scales`` and their flips (:func:`multiscale_map`), then
    :func:`background_cue` (threshold, then the dense CRF with the
    reference's settings). Nothing is chosen on the scenes.

    Args:
        model (torch.nn.Module): A C2AM in eval mode.
        split (dict): The scenes as :func:`predict_split` returns them
            (``imgs`` RGB, ``masks``).
        scales (list[float]): Scales of the fused map.
        threshold (float): Cue threshold before the CRF.

    Returns:
        float: The mean IoU over the scenes.
    """
    ious = []
    progress = ProgressBar(len(split['imgs']))
    for img, mask in zip(split['imgs'], split['masks']):
        bgr = np.ascontiguousarray(img[..., ::-1])
        obj_map = multiscale_map(model, bgr, scales, flip=True)
        cue = background_cue(obj_map, bgr, threshold=threshold)
        ious.append(binary_mask_iou(cue, mask))
        progress.update()
    print()
    return float(np.mean(ious))


def choose_and_score(val: Dict[str, list],
                     test: Dict[str, list]) -> Dict[str, float]:
    """Choose both thresholds on val, score test at them.

    Returns:
        dict: ``box_threshold``, ``mask_threshold`` (chosen on val: the
        first grid value with the best val score), ``val_gt_known``,
        ``val_mask_iou`` (the val scores there), ``gt_known``, ``mask_iou``
        (test, at the val thresholds), ``gt_known_test_best``,
        ``mask_iou_test_best`` (the test curves' maxima, for reference
        only: what the best threshold could reach), ``whole_gt_known``,
        ``whole_mask_iou`` (test, whole-image box and mask), ``num_val``,
        ``num_test``.
    """
    val_box = gt_known_curve(val['maps'], val['boxes'], THRESHOLDS)
    val_mask = mask_iou_curve(val['maps'], val['masks'], THRESHOLDS)
    box_index, mask_index = int(val_box.argmax()), int(val_mask.argmax())
    test_box = gt_known_curve(test['maps'], test['boxes'], THRESHOLDS)
    test_mask = mask_iou_curve(test['maps'], test['masks'], THRESHOLDS)
    whole_box, whole_mask = whole_image_scores(
        [m.shape for m in test['masks']], test['boxes'], test['masks'])
    return dict(
        box_threshold=float(THRESHOLDS[box_index]),
        mask_threshold=float(THRESHOLDS[mask_index]),
        val_gt_known=float(val_box[box_index]),
        val_mask_iou=float(val_mask[mask_index]),
        gt_known=float(test_box[box_index]),
        mask_iou=float(test_mask[mask_index]),
        gt_known_test_best=float(test_box.max()),
        mask_iou_test_best=float(test_mask.max()),
        whole_gt_known=whole_box,
        whole_mask_iou=whole_mask,
        num_val=len(val['maps']),
        num_test=len(test['maps']))


def draw_scenes(test: Dict[str, list], box_threshold: float, out_dir: str,
                num: int, scale: int = 3) -> List[str]:
    """Draw the first ``num`` test scenes and a mosaic of them.

    Each PNG shows the map over the scene, the box at ``box_threshold``
    (green) and the ground-truth boxes (red); files are written atomically.

    Returns:
        list[str]: The files written (the mosaic last).
    """
    os.makedirs(out_dir, exist_ok=True)
    visualizer = Visualizer.get_instance('mmc2am_demo_drawing')
    num = min(num, len(test['maps']))
    boxes = maps_to_boxes(test['maps'][:num], [box_threshold])[:, 0]
    paths, drawings = [], []
    for index in range(num):
        drawing = draw_map_and_boxes(
            visualizer,
            test['imgs'][index],
            test['maps'][index],
            boxes[index:index + 1],
            test['boxes'][index],
            scale=scale)
        drawings.append(drawing)
        paths.append(
            write_png(osp.join(out_dir, f'test_{index:03d}.png'),
                      drawing[..., ::-1]))
    if drawings:
        paths.append(
            write_png(
                osp.join(out_dir, 'grid.png'), grid(drawings)[..., ::-1]))
    return paths


def evaluate(cfg: Config, checkpoint: str, args: argparse.Namespace,
             vis_dir: str) -> Tuple[Dict[str, float], List[str]]:
    """Stage 3: maps of val and test, thresholds from val, figures on test.
    """
    model = init_c2am(cfg, checkpoint, output_frame='ori_shape')
    model.eval()
    print_log(f'[eval] maps of {args.num_val} val scenes (seed '
              f'{args.val_seed})', logger='current')
    flip = not args.no_test_flip
    val = predict_split(model,
                        build_split(cfg, args, args.val_seed, args.num_val),
                        args.test_scale, flip)
    print_log(f'[eval] maps of {args.num_test} test scenes (seed '
              f'{args.test_seed})', logger='current')
    test = predict_split(
        model, build_split(cfg, args, args.test_seed, args.num_test),
        args.test_scale, flip)
    results = choose_and_score(val, test)
    if not args.no_cues:
        print_log(
            f'[eval] background cues of the {args.num_test} test scenes '
            f'(threshold {args.cue_threshold:g} + dense CRF)',
            logger='current')
        with torch.no_grad():
            results['cue_mask_iou'] = cue_mask_iou(model, test,
                                                   args.cue_scales,
                                                   args.cue_threshold)
        results['cue_threshold'] = args.cue_threshold
        results['cue_scales'] = list(args.cue_scales)
    results['flipped'] = bool(model.flipped)
    results['test_scale'] = args.test_scale
    results['test_flip'] = flip
    results['map_space'] = model.test_cfg['map_space']
    paths = draw_scenes(test, results['box_threshold'], vis_dir, args.num_vis)
    return results, paths


def report(results: Dict[str, float], times: Dict[str, float],
           vis_paths: List[str]) -> str:
    """The table the demo prints."""
    lines = [
        '',
        f'C²AM on {results["num_test"]} test scenes; thresholds chosen on '
        f'{results["num_val"]} validation scenes (box tau '
        f'{results["box_threshold"]:.2f}, mask tau '
        f'{results["mask_threshold"]:.2f}); {results["map_space"]} maps at '
        f'input scale {results["test_scale"]:g}'
        f'{" with flip" if results["test_flip"] else ""}:',
        '',
        '| method                  | GT-known | mean mask IoU |',
        '|-------------------------|----------|---------------|',
        f'| C²AM (val thresholds)   | {results["gt_known"]:8.3f} | '
        f'{results["mask_iou"]:13.3f} |',
    ]
    if 'cue_mask_iou' in results:
        lines.append(f'| C²AM background cue     |        - | '
                     f'{results["cue_mask_iou"]:13.3f} |')
    lines.append('| whole-image box / mask  | '
                 f'{results["whole_gt_known"]:8.3f}'
                 f' | {results["whole_mask_iou"]:13.3f} |')
    if 'cue_mask_iou' in results:
        lines += [
            '',
            '(background cue: the map fused over scales '
            f'{", ".join(f"{s:g}" for s in results["cue_scales"])} and their '
            f'flips, threshold {results["cue_threshold"]:g} + dense CRF, '
            'method.md 6.2-6.3, reference settings, nothing chosen on the '
            'scenes)',
        ]
    lines += [
        '',
        f'(validation: GT-known {results["val_gt_known"]:.3f}, mask IoU '
        f'{results["val_mask_iou"]:.3f}; polarity flipped: '
        f'{results["flipped"]})',
        'stage times: ' + ', '.join(f'{k} {v:.0f} s'
                                    for k, v in times.items()),
    ]
    if vis_paths:
        lines.append(f'{len(vis_paths) - 1} test scenes drawn (map overlay, '
                     f'predicted box green, ground truth red) in '
                     f'{osp.dirname(vis_paths[0])}/ (mosaic: '
                     f'{osp.basename(vis_paths[-1])})')
    return '\n'.join(lines)


def main(argv=None) -> Dict[str, float]:
    """Run the demo; returns the figures (also saved as results.json)."""
    args = parse_args(argv)
    set_random_seed(args.seed)
    work_dir = osp.abspath(args.work_dir)
    times: Dict[str, float] = {}

    init_cfg = stage_config(args.init_config, osp.join(work_dir, 'init'),
                            args, args.init_iters, args.init_cfg_options)
    init_ckpt, times['init'] = train_stage(init_cfg, 'init', args.force)

    c2am_cfg = stage_config(args.c2am_config, osp.join(work_dir, 'c2am'),
                            args, args.c2am_iters, args.c2am_cfg_options)
    c2am_cfg.model.backbone.init_cfg = dict(
        type='PretrainedAnyPrefix', checkpoint=init_ckpt)
    c2am_ckpt, times['c2am'] = train_stage(
        c2am_cfg, 'c2am', args.force or times['init'] > 0)

    init_default_scope('mmseg')
    start = time.perf_counter()
    results, vis_paths = evaluate(c2am_cfg, c2am_ckpt, args,
                                  osp.join(work_dir, 'vis'))
    times['evaluation'] = time.perf_counter() - start
    results['times'] = times
    results['checkpoints'] = dict(init=init_ckpt, c2am=c2am_ckpt)
    results['vis'] = vis_paths
    with atomic_output(osp.join(work_dir, 'results.json')) as tmp, \
            open(tmp, 'w') as f:
        json.dump(results, f, indent=2)
    print(report(results, times, vis_paths), flush=True)
    print(f'figures saved in {osp.join(work_dir, "results.json")}')
    return results


if __name__ == '__main__':
    main()
