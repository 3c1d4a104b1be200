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
from mmseg.structures import SegDataSample

import mmc2am  # noqa: F401  registers mmc2am's modules
from mmc2am.apis.dataset_items import (build_folder_dataset, folder_source,
                                       output_names, readable_items)
from mmc2am.apis.inference import init_segmentor
from mmc2am.utils.io import check_settings, remove_stale_temp_files
from mmc2am.utils.png import write_png
from mmc2am.utils.tool_config import (add_inference_args, add_model_args,
                                      load_inference_config, model_settings,
                                      report_problems)

# The whole image, as 8-bit BGR, packed for the model.
PIPELINE = [dict(type='LoadImageBGR8'), dict(type='PackSegInputs')]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_args(parser, 'the segmentation model\'s config',
                   'its trained checkpoint')
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
    add_inference_args(
        parser, strict_help='exit with status 1 if an image could not be '
        'predicted')
    args = parser.parse_args(argv)
    if args.threshold is not None and not 0 < args.threshold <= 1:
        parser.error(f'--threshold must be in (0, 1]; got {args.threshold}')
    return args


def foreground_cue(sample: SegDataSample,
                   threshold: Optional[float] = None,
                   soft: bool = False) -> np.ndarray:
    """The cue of one prediction: foreground is every class but 0.

    Args:
        sample (SegDataSample): Output of the model's ``test_step``, with
            ``seg_logits`` (``Tensor[C, H, W]``; when ``C == 1``, sigmoid
            probabilities as mmseg stores them, or logits when the
            metainfo's ``map_space`` is ``'logit'``, as :class:`C2AM`
            stores them by default) and ``pred_sem_seg``.
        threshold (float, optional): Foreground where its probability is
            ``>= threshold``. Defaults to None: the argmax.
        soft (bool): Return ``round(255 * probability)``. Defaults to False.

    Returns:
        np.ndarray[H, W]: uint8 cue, foreground 255.
    """
    logits = sample.seg_logits.data.float()
    if logits.shape[0] == 1:
        prob = logits[0]
        if sample.metainfo.get('map_space') == 'logit':
            prob = prob.sigmoid()
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
    cfg = load_inference_config(args)
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
            **model_settings(args),
            images=folder_source(dataset, args.img_dir, args.list),
            threshold=args.threshold,
            soft=args.soft))
    pending = [i for i, path in enumerate(outputs) if not osp.isfile(path)]
    written = 0
    if pending:
        model = init_segmentor(cfg, args.checkpoint, args.device)
        with torch.no_grad():
            for index, sample in readable_items(dataset, pending, PIPELINE,
                                                args.workers, problems):
                [result] = model.test_step(
                    dict(
                        inputs=[sample['inputs']],
                        data_samples=[sample['data_samples']]))
                write_png(outputs[index],
                          foreground_cue(result, args.threshold, args.soft))
                written += 1
    return written, len(outputs) - len(pending), problems


def main(argv=None) -> int:
    args = parse_args(argv)
    written, kept, problems = run(args)
    print(f'{written} cues written to {args.out_dir}, {kept} already there, '
          f'{len(problems)} images not predicted.')
    return report_problems(problems, 'Images not predicted', args.strict)


if __name__ == '__main__':
    sys.exit(main())
