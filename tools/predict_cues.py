"""Write a trained segmentation model's foreground as refined cue PNGs.

Cue refinement (method.md section 6.4): a model trained on the background
cues (e.g. ``configs/wsss/cue_refine_r18_scenes.py``) predicts every image
of ``--img-dir`` (recursively, or those named by ``--list``: the first
word of each line, with ``--img-suffix`` appended, by default the first
listed image's ending), and its foreground, every class but 0, is written
in the cue format: ``OUT/<name>.png`` (the image path relative to
``--img-dir`` less its ending, so a listed name), single channel, the size
of the image:

- default: 255 where the predicted class (argmax) is not background, else 0;
- ``--threshold T``: 255 where the foreground probability (``1 - p(0)``
  of the softmax; the sigmoid of a one-channel model) is at least ``T``;
- ``--soft``: ``round(255 * p)``, a soft cue (``read_cue`` divides by 255,
  ``LoadCueAnnotation`` cuts at 128).

Each image is predicted whole at its own size (no test-time resize or
crop). Files are written atomically, so an existing one is complete: a
re-run predicts only the missing ones. ``OUT/settings.json`` records the
config, checkpoint and mode; a re-run with others is refused. Images that
cannot be read, and listed images that do not exist, are listed at the
end; the exit status is non-zero only with ``--strict`` and some image
listed.

Example:
    python tools/predict_cues.py configs/wsss/cue_refine_r18_scenes.py \\
        work_dirs/cue_refine_r18_scenes/iter_300.pth \\
        --img-dir data/scenes_voc/JPEGImages --out-dir work_dirs/cues_refined
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional, Tuple

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from mmengine.utils import ProgressBar
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from torch.utils.data import DataLoader

import mmc2am  # noqa: F401  registers mmc2am's modules
from mmc2am.apis.dataset_items import (SafeItems, build_folder_dataset,
                                       output_names)
from mmc2am.datasets.image_folder import format_names
from mmc2am.utils.io import check_settings, remove_stale_temp_files
from mmc2am.utils.png import write_png

# The whole image, as 8-bit BGR, packed for the model.
PIPELINE = [dict(type='LoadImageBGR8'), dict(type='PackSegInputs')]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='the segmentation model\'s config')
    parser.add_argument('checkpoint', help='its trained checkpoint')
    parser.add_argument('--img-dir', required=True, help='image folder')
    parser.add_argument('--out-dir', required=True, help='output folder')
    parser.add_argument(
        '--list',
        help='file whose lines start with the image names (paths relative '
        'to --img-dir, e.g. VOC ImageSets); default: every image under '
        '--img-dir')
    parser.add_argument(
        '--img-suffix',
        help='appended to each --list name, e.g. .jpg (default: the ending '
        'the first listed image has, or none)')
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        '--threshold',
        type=float,
        help='foreground where its probability is at least this (default: '
        'the argmax)')
    mode.add_argument(
        '--soft',
        action='store_true',
        help='write round(255 x foreground probability)')
    parser.add_argument(
        '--device',
        default='cuda' if torch.cuda.is_available() else 'cpu',
        help='default: cuda if available, else cpu')
    parser.add_argument(
        '--workers', type=int, default=2, help='image loading processes')
    parser.add_argument(
        '--strict',
        action='store_true',
        help='exit with status 1 if an image could not be predicted')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value')
    args = parser.parse_args(argv)
    if args.threshold is not None and not 0 < args.threshold <= 1:
        parser.error(f'--threshold must be in (0, 1]; got {args.threshold}')
    return args


def init_segmentor(cfg: Config,
                   checkpoint: str,
                   device: str = 'cpu') -> torch.nn.Module:
    """The config's model with the checkpoint's weights, in eval mode.

    Pretrained initialisations of the config are not run (the weights come
    from the checkpoint). Call it under the config's default scope.

    Raises:
        FileNotFoundError: The checkpoint does not exist.
        RuntimeError: Its weights do not fit the model.
    """
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint {checkpoint} does not exist.')
    model = MODELS.build(cfg.model)
    try:
        load_checkpoint(
            model,
            checkpoint,
            map_location='cpu',
            strict=True,
            logger='current')
    except RuntimeError as err:
        raise RuntimeError(
            f'{checkpoint} does not fit the model of {cfg.filename}: {err}. '
            'Use the config the checkpoint was trained with.') from err
    return model.to(device).eval()


def foreground_cue(sample: SegDataSample,
                   threshold: Optional[float] = None,
                   soft: bool = False) -> np.ndarray:
    """The cue of one prediction: foreground is every class but 0.

    Args:
        sample (SegDataSample): Output of the model's ``test_step``, with
            ``seg_logits`` (``Tensor[C, H, W]``; sigmoid probabilities when
            ``C == 1``, as mmseg stores them) and ``pred_sem_seg``.
        threshold (float, optional): Foreground where its probability is
            ``>= threshold``. Defaults to None: the argmax.
        soft (bool): Return ``round(255 * probability)``. Defaults to False.

    Returns:
        np.ndarray[H, W]: uint8 cue, foreground 255.
    """
    logits = sample.seg_logits.data.float()
    if logits.shape[0] == 1:
        prob = logits[0]
    else:
        prob = 1 - logits.softmax(dim=0)[0]
    if soft:
        fg = torch.round(prob * 255)
    elif threshold is not None:
        fg = (prob >= threshold) * 255
    else:
        fg = (sample.pred_sem_seg.data[0] != 0) * 255
    return fg.cpu().numpy().astype(np.uint8)


def run(args: argparse.Namespace) -> Tuple[int, int, List[str]]:
    """Predict the images with missing outputs.

    Returns:
        tuple: (cues written now, cues already there, problems).
    """
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    dataset = build_folder_dataset(args.img_dir, args.list, args.img_suffix)
    outputs = [
        osp.join(args.out_dir, name + '.png')
        for name in output_names(dataset, args.img_dir)
    ]
    # Listed images that do not exist (--list).
    problems = [f'{path}: image file not found' for path in dataset.skipped]
    if osp.isdir(args.out_dir):
        remove_stale_temp_files(args.out_dir)  # left by a killed run
    check_settings(
        args.out_dir,
        dict(
            config=osp.abspath(args.config),
            checkpoint=osp.abspath(args.checkpoint),
            threshold=args.threshold,
            soft=args.soft))
    pending = [i for i, path in enumerate(outputs) if not osp.isfile(path)]
    written = len(pending)
    if pending:
        model = init_segmentor(cfg, args.checkpoint, args.device)
        loader = DataLoader(
            SafeItems(dataset, pending, PIPELINE),
            batch_size=1,
            num_workers=args.workers,
            collate_fn=list)
        progress = ProgressBar(len(pending))
        with torch.no_grad():
            for [(index, sample, error)] in loader:
                progress.update()
                if sample is None:
                    problems.append(error)
                    written -= 1
                    continue
                [result] = model.test_step(
                    dict(
                        inputs=[sample['inputs']],
                        data_samples=[sample['data_samples']]))
                write_png(outputs[index],
                          foreground_cue(result, args.threshold, args.soft))
        print()
    return written, len(outputs) - len(pending), problems


def main(argv=None) -> int:
    args = parse_args(argv)
    written, kept, problems = run(args)
    print(f'{written} cues written to {args.out_dir}, {kept} already there, '
          f'{len(problems)} images not predicted.')
    if problems:
        print(f'Images not predicted:\n{format_names(problems)}')
    return 1 if problems and args.strict else 0


if __name__ == '__main__':
    sys.exit(main())
