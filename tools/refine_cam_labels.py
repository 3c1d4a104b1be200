"""Write pseudo-label PNGs from class CAMs and background cues.

Per image ``<name>``: the CAMs ``CAMS/<name>.npy`` (or ``.npz``; layouts in
``mmc2am.functional.pseudo_labels.read_cams``) and the cue
``CUES/<name>.png`` (foreground 255) give ``OUT/<name>.png``: uint8 class
ids, 0 background, 255 ignored, the label layout mmseg's ``BaseSegDataset``
reads (``seg_map_suffix='.png'``). ``--baseline-threshold`` replaces the
cue by a constant background score (the baseline without cues).

Existing outputs are kept (files are written atomically, so an existing one
is complete): re-running resumes. ``OUT/settings.json`` records the inputs
(folders, options, and the ``settings.json`` the tools that wrote the CAMs
and cues left there, which name their checkpoints' SHA-256): a re-run on
other inputs into the same folder is refused instead of resumed. Images
that cannot be processed (missing or unreadable files, size mismatches, no
foreground class) are listed at the end; the others are written. The exit
status is non-zero only with ``--strict`` and some image listed.

Example:
    python tools/refine_cam_labels.py --cams work_dirs/cams \
        --cues work_dirs/cues --out work_dirs/pseudo_labels
"""
import argparse
import json
import os.path as osp
import sys
from typing import List, Optional, Tuple

from mmengine.utils import ProgressBar

from mmc2am.apis.pseudo_label_files import (CAM_SUFFIXES, INPUT_ERRORS,
                                            find_cam_file, image_names,
                                            labels_from_files)
from mmc2am.functional.pseudo_labels import save_label_map
from mmc2am.utils.io import check_settings, remove_stale_temp_files


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--cams', required=True, help='folder of CAM files')
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument('--cues', help='folder of cue PNGs (foreground 255)')
    source.add_argument(
        '--baseline-threshold',
        type=float,
        help='constant background score instead of cues (the baseline)')
    parser.add_argument('--out', required=True, help='output label folder')
    parser.add_argument(
        '--ignore-below',
        type=float,
        help='label 255 where the winning score is below this bound')
    parser.add_argument(
        '--list',
        help='file with one image name per line (e.g. VOC ImageSets); '
        'default: every CAM file in --cams')
    parser.add_argument(
        '--strict',
        action='store_true',
        help='exit with status 1 if any image was listed as a problem')
    return parser.parse_args(argv)


def process(name: str, args: argparse.Namespace) -> None:
    """Build and write the label of one image; raise on a bad input."""
    cue_file = osp.join(args.cues, name + '.png') if args.cues else None
    labels = labels_from_files(
        find_cam_file(args.cams, name), cue_file, args.baseline_threshold,
        args.ignore_below)
    save_label_map(osp.join(args.out, name + '.png'), labels)


def recorded_settings(folder: Optional[str]) -> Optional[dict]:
    """The ``settings.json`` an mmc2am tool left in an input folder."""
    path = osp.join(folder, 'settings.json') if folder else None
    if path is None or not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def run(args: argparse.Namespace) -> Tuple[int, int, List[str]]:
    """Process every image; returns (written, kept, problems)."""
    names = image_names(args.cams, CAM_SUFFIXES, args.list)
    if not names:
        print(f'no CAM files ({", ".join(CAM_SUFFIXES)}) in {args.cams}.')
    if osp.isdir(args.out):
        remove_stale_temp_files(args.out)  # left by a killed run
    check_settings(
        args.out,
        dict(
            cams=osp.abspath(args.cams),
            cams_settings=recorded_settings(args.cams),
            cues=osp.abspath(args.cues) if args.cues else None,
            cues_settings=recorded_settings(args.cues),
            baseline_threshold=args.baseline_threshold,
            ignore_below=args.ignore_below))
    written, kept, problems = 0, 0, []
    progress = ProgressBar(len(names)) if names else None
    for name in names:
        if osp.isfile(osp.join(args.out, name + '.png')):
            kept += 1
        else:
            try:
                process(name, args)
                written += 1
            except INPUT_ERRORS as e:
                problems.append(f'{name}: {e}')
        progress.update()
    return written, kept, problems


def main(argv=None) -> int:
    args = parse_args(argv)
    written, kept, problems = run(args)
    print(f'\n{written} label maps written to {args.out}, {kept} already '
          f'there, {len(problems)} images with problems.')
    if problems:
        print('Images not written:')
        for line in problems:
            print(f'  {line}')
    return 1 if problems and args.strict else 0


if __name__ == '__main__':
    sys.exit(main())
