"""Evaluate pseudo labels against ground truth: mIoU, per-class IoU, FP, FN.

``--pred`` evaluates a folder of label PNGs (``<name>.png``, e.g. from
``tools/refine_cam_labels.py``). ``--sweep`` evaluates the constant-threshold
baseline straight from a folder of CAM files over a grid of background
thresholds, reading each file once. Both compare with ``--gt/<name>.png``
(single-channel or palette PNG, 255 ignored). Definitions (PSA / IRN / the
C²AM reference): per class ``IoU = TP / (TP + FP + FN)``, ``FP`` and ``FN``
rates are ``FP / (TP + FP + FN)`` and ``FN / (TP + FP + FN)``; mean FP / FN
are over the foreground classes. Predicted-ignore (255) pixels are left out
of the scores; their share is reported as coverage.

Example:
    VOC=data/VOCdevkit/VOC2012
    python tools/eval_pseudo_labels.py --pred work_dirs/pseudo_labels \
        --gt $VOC/SegmentationClass --num-classes 21 --sweep work_dirs/cams \
        --list $VOC/ImageSets/Segmentation/train.txt
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional, Sequence, Tuple

import numpy as np
from mmengine.utils import ProgressBar

from mmc2am.apis.pseudo_label_files import (CAM_SUFFIXES, INPUT_ERRORS,
                                            find_cam_file, image_names)
from mmc2am.functional.pseudo_labels import (IGNORE_INDEX, confusion_matrix,
                                             load_label_map,
                                             miou_from_confusion, read_cams,
                                             threshold_labels)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--pred', help='folder of predicted label PNGs')
    parser.add_argument('--gt', required=True, help='ground-truth folder')
    parser.add_argument('--num-classes', type=int, default=21)
    parser.add_argument(
        '--sweep', help='folder of CAM files: sweep the baseline threshold')
    parser.add_argument(
        '--thresholds',
        type=float,
        nargs=3,
        default=(0.05, 0.95, 0.05),
        metavar=('START', 'STOP', 'STEP'),
        help='sweep grid, STOP included (default: 0.05 0.95 0.05)')
    parser.add_argument(
        '--list',
        help='file with one image name per line; default: every file in '
        '--pred (or --sweep)')
    parser.add_argument(
        '--class-names',
        help='comma-separated class names, background first; default: '
        'the VOC names for 21 classes, else class ids')
    args = parser.parse_args(argv)
    if not args.pred and not args.sweep:
        parser.error('give --pred, --sweep or both')
    return args


def class_names(num_classes: int, names: Optional[str]) -> List[str]:
    if names:
        names = [n.strip() for n in names.split(',')]
        if len(names) != num_classes:
            raise ValueError(f'--class-names has {len(names)} names for '
                             f'{num_classes} classes.')
        return names
    if num_classes == 21:
        from mmseg.datasets import PascalVOCDataset
        return list(PascalVOCDataset.METAINFO['classes'])
    return [str(i) for i in range(num_classes)]


def sweep_grid(start: float, stop: float, step: float) -> np.ndarray:
    if step <= 0 or stop < start:
        raise ValueError('--thresholds needs START <= STOP and STEP > 0.')
    return np.round(np.arange(start, stop + step / 2, step), 6)


def evaluate_labels(pred_dir: str, gt_dir: str, names: Sequence[str],
                    num_classes: int) -> Tuple[np.ndarray, float, List[str]]:
    """Confusion of the label PNGs in ``pred_dir``.

    Returns:
        tuple: confusion (np.ndarray[C, C]), coverage (share of labelled
        ground-truth pixels the prediction does not ignore) and problems.
    """
    confusion = np.zeros((num_classes, num_classes), np.int64)
    labelled = ignored = 0
    problems = []
    progress = ProgressBar(len(names)) if names else None
    for name in names:
        try:
            pred = load_label_map(osp.join(pred_dir, name + '.png'))
            gt = load_label_map(osp.join(gt_dir, name + '.png'))
            confusion += confusion_matrix(pred, gt, num_classes)
            valid = gt != IGNORE_INDEX
            labelled += int(valid.sum())
            ignored += int((valid & (pred == IGNORE_INDEX)).sum())
        except INPUT_ERRORS as e:
            problems.append(f'{name}: {e}')
        progress.update()
    coverage = 1 - ignored / labelled if labelled else float('nan')
    return confusion, coverage, problems


def sweep_baseline(cam_dir: str, gt_dir: str, names: Sequence[str],
                   thresholds: np.ndarray,
                   num_classes: int) -> Tuple[np.ndarray, List[str]]:
    """Confusions of the constant-threshold baseline, one per threshold.

    Returns:
        tuple: confusions (np.ndarray[T, C, C]) and problems.
    """
    confusions = np.zeros((len(thresholds), num_classes, num_classes),
                          np.int64)
    problems = []
    progress = ProgressBar(len(names)) if names else None
    for name in names:
        try:
            cams, class_ids = read_cams(find_cam_file(cam_dir, name))
            gt = load_label_map(osp.join(gt_dir, name + '.png'))
            if cams.shape[1:] != gt.shape:
                raise ValueError(f'CAMs {cams.shape[1:]} and ground truth '
                                 f'{gt.shape} differ in size.')
            for i, t in enumerate(thresholds):
                pred = threshold_labels(cams, class_ids, t)
                confusions[i] += confusion_matrix(pred, gt, num_classes)
        except INPUT_ERRORS as e:
            problems.append(f'{name}: {e}')
        progress.update()
    return confusions, problems


def format_report(confusion: np.ndarray, names: Sequence[str],
                  coverage: float) -> str:
    """Per-class IoU / FP / FN table and the means."""
    if confusion.sum() == 0:
        return 'no image could be evaluated.'
    scores = miou_from_confusion(confusion)
    lines = [f'{"class":<14}{"IoU %":>8}{"FP":>8}{"FN":>8}']
    for name, iou, fp, fn in zip(names, scores['iou'], scores['fp'],
                                 scores['fn']):
        if np.isnan(iou):  # in neither prediction nor ground truth
            lines.append(f'{name:<14}{"-":>8}{"-":>8}{"-":>8}')
        else:
            lines.append(f'{name:<14}{iou * 100:>8.2f}{fp:>8.4f}{fn:>8.4f}')
    lines.append(
        f'mIoU {scores["miou"] * 100:.2f}%, FP {scores["mean_fp"]:.4f}'
        f', FN {scores["mean_fn"]:.4f} (foreground means), '
        f'coverage {coverage * 100:.2f}%')
    return '\n'.join(lines)


def format_sweep(confusions: np.ndarray, thresholds: np.ndarray) -> str:
    """One row per threshold; the best mIoU is marked with ``*``."""
    if confusions.sum() == 0:
        return 'no image could be evaluated.'
    rows = [miou_from_confusion(c) for c in confusions]
    best = int(np.nanargmax([r['miou'] for r in rows]))
    lines = [f'{"threshold":>9}{"mIoU %":>9}{"FP":>8}{"FN":>8}']
    for i, (t, r) in enumerate(zip(thresholds, rows)):
        mark = ' *' if i == best else ''
        lines.append(f'{t:>9.2f}{r["miou"] * 100:>9.2f}{r["mean_fp"]:>8.4f}'
                     f'{r["mean_fn"]:>8.4f}{mark}')
    lines.append(f'best baseline: threshold {thresholds[best]:.2f}, '
                 f'mIoU {rows[best]["miou"] * 100:.2f}%')
    return '\n'.join(lines)


def print_problems(problems: List[str]) -> None:
    if problems:
        print(f'{len(problems)} images skipped:')
        for line in problems:
            print(f'  {line}')


def main(argv=None) -> int:
    """Print the reports; the exit status is 1 when nothing was evaluated."""
    args = parse_args(argv)
    labels = class_names(args.num_classes, args.class_names)
    evaluated = True
    if args.pred:
        names = image_names(args.pred, ('.png', ), args.list)
        confusion, coverage, problems = evaluate_labels(
            args.pred, args.gt, names, args.num_classes)
        print(f'\nPseudo labels {args.pred}: '
              f'{len(names) - len(problems)} images')
        print(format_report(confusion, labels, coverage))
        print_problems(problems)
        evaluated &= bool(confusion.sum())
    if args.sweep:
        thresholds = sweep_grid(*args.thresholds)
        names = image_names(args.sweep, CAM_SUFFIXES, args.list)
        confusions, problems = sweep_baseline(args.sweep, args.gt, names,
                                              thresholds, args.num_classes)
        print(f'\nConstant-threshold baseline from {args.sweep}: '
              f'{len(names) - len(problems)} images')
        print(format_sweep(confusions, thresholds))
        print_problems(problems)
        evaluated &= bool(confusions.sum())
    return 0 if evaluated else 1


if __name__ == '__main__':
    sys.exit(main())
