"""Write multi-scale CAMs of the present classes of every labelled image.

A trained multi-label classifier with ``cams()`` (``GAPClassifier``) maps
each image listed in the image-level label file ``--labels`` (format:
``mmc2am.datasets.image_labels``; ``tools/export_scenes.py --layout voc``
writes one per split) at every ``--scales`` factor and its horizontal flip;
the CAMs of the classes the file says are present are fused per class
(method.md section 6.2, :func:`mmc2am.apis.multiscale.multiscale_cams`):
ReLU, resize to the image, sum, divide by the class map's maximum.

Output per image ``<name>`` (the label file's name; the image is
``IMG_DIR/<name><suffix>``): ``OUT_DIR/<name>.npy``, a pickled dict in
IRN's layout, read by ``mmc2am.functional.pseudo_labels.read_cams`` (so by
``tools/refine_cam_labels.py`` and ``tools/eval_pseudo_labels.py``):

- ``keys``: np.ndarray[K] int64, the present classes, 0-based foreground
  indices (segmentation class id ``key + 1``; no background entry);
- ``hr_cam``: np.ndarray[K, H, W] (float16, or ``--dtype float32``) in
  ``[0, 1]``, each class map with maximum 1 (all zeros when the class is
  nowhere positive), in original image pixels.

Files are written atomically, so an existing one is complete: a re-run
maps only the images with missing outputs. ``OUT_DIR/settings.json``
records the settings; a re-run with others is refused. Images the label
file gives no foreground class are skipped and listed (there is nothing to
map). Images that cannot be read (missing, unreadable, NaN CAMs) are
skipped and listed at the end and tried again by the next run; the exit
status is non-zero only with ``--strict`` and some image of this second
kind.

Example:
    python tools/export_scenes.py --out data/scenes_voc --layout voc \\
        --splits train:0:1000
    python tools/infer_cams.py configs/demo/init_textures_scenes.py \\
        work_dirs/demo/init/iter_1000.pth \\
        --img-dir data/scenes_voc/JPEGImages \\
        --labels data/scenes_voc/ImageLabels/train.txt --out-dir work_dirs/cams
"""
import argparse
import os.path as osp
import sys
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch

import mmc2am  # noqa: F401  registers mmc2am's modules
from mmc2am.apis.dataset_items import (build_folder_dataset, output_names,
                                       readable_items)
from mmc2am.apis.inference import init_classifier
from mmc2am.apis.multiscale import multiscale_cams
from mmc2am.datasets.image_folder import format_names
from mmc2am.datasets.image_labels import ImageLabelDataset, read_image_labels
from mmc2am.utils.io import (atomic_output, check_settings,
                             remove_stale_temp_files)
from mmc2am.utils.tool_config import (add_inference_args, add_model_args,
                                      add_multiscale_args,
                                      load_inference_config, model_settings,
                                      report_problems)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_args(parser, 'the classifier config', 'the trained classifier')
    parser.add_argument('--img-dir', required=True, help='image folder')
    parser.add_argument(
        '--labels', required=True, help='image-level label file')
    parser.add_argument('--out-dir', required=True, help='output folder')
    parser.add_argument(
        '--img-suffix',
        help='image file ending, e.g. .jpg (default: the first of the '
        'common image endings that the first listed image has)')
    add_multiscale_args(parser)
    parser.add_argument(
        '--dtype',
        choices=['float16', 'float32'],
        default='float16',
        help='of the saved CAMs (default: float16)')
    add_inference_args(
        parser, strict_help='exit with status 1 if an image could not be '
        'mapped')
    return parser.parse_args(argv)


def save_cams(path: str, keys: List[int], cams: np.ndarray,
              dtype: str) -> None:
    """Write ``dict(keys, hr_cam)`` as a pickled ``.npy``, atomically."""
    content = dict(keys=np.array(keys, np.int64), hr_cam=cams.astype(dtype))
    with atomic_output(path) as tmp, open(tmp, 'wb') as f:
        np.save(f, content, allow_pickle=True)


def check_classes(labels: Dict[str, List[int]], num_classes: int,
                  path: str) -> None:
    """Refuse class indices the classifier does not have."""
    bad = [
        n for n, classes in labels.items()
        if classes and max(classes) >= num_classes
    ]
    if bad:
        raise ValueError(
            f'{path} gives {len(bad)} images class indices >= {num_classes}, '
            f'the classifier\'s number of classes (e.g. {bad[0]}: '
            f'{labels[bad[0]]}). Indices are 0-based foreground classes; '
            f'use the classifier trained on these labels.')


def run(args: argparse.Namespace) -> Tuple[int, int, List[str], List[str]]:
    """Map the labelled images with missing outputs.

    Returns:
        tuple: (images mapped now, images already done, images without a
        foreground class, problems).
    """
    cfg = load_inference_config(args)
    if min(args.scales) <= 0:
        raise ValueError(f'--scales must be positive; got {args.scales}.')
    labels = read_image_labels(args.labels)
    if not labels:
        raise ValueError(f'{args.labels} lists no image.')
    if cfg.model.get('num_classes') is not None:
        check_classes(labels, cfg.model.num_classes, args.labels)
    empty = [name for name, classes in labels.items() if not classes]
    dataset = build_folder_dataset(
        args.img_dir, args.labels, args.img_suffix, labelled=True)
    remove_stale_temp_files(args.out_dir)
    check_settings(
        args.out_dir,
        dict(
            **model_settings(args),
            labels=osp.abspath(args.labels),
            scales=args.scales,
            flip=not args.no_flip,
            dtype=args.dtype))
    problems = [f'{path}: image file not found' for path in dataset.skipped]
    outputs = [
        osp.join(args.out_dir, name + '.npy')
        for name in output_names(dataset, args.img_dir)
    ]
    mapped = [
        i for i in range(len(dataset)) if dataset.get_data_info(i)['gt_label']
    ]
    pending = [i for i in mapped if not osp.isfile(outputs[i])]
    written = 0
    if pending:
        model = init_classifier(cfg, args.checkpoint, args.device)
        written = map_images(model, dataset, pending, outputs, args, problems)
    return written, len(mapped) - len(pending), empty, problems


def map_images(model: torch.nn.Module, dataset: ImageLabelDataset,
               indices: List[int], outputs: List[str],
               args: argparse.Namespace, problems: List[str]) -> int:
    """Write the CAM files of the dataset's ``indices`` (to ``outputs[i]``)
    with a progress bar; appends unreadable images to ``problems``.

    Returns:
        int: The files written.
    """
    written = 0
    for index, sample in readable_items(dataset, indices,
                                        [dict(type='LoadImageBGR8')],
                                        args.workers, problems):
        keys = sample['gt_label']
        try:
            cams = multiscale_cams(model, sample['img'], keys, args.scales,
                                   not args.no_flip)
        except ValueError as err:
            problems.append(f'{sample["img_path"]}: {err}')
            continue
        save_cams(outputs[index], keys, cams, args.dtype)
        written += 1
    return written


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    written, kept, empty, problems = run(args)
    print(f'{written} CAM files written to {args.out_dir}, {kept} already '
          f'there, {len(empty)} images without a foreground class skipped, '
          f'{len(problems)} images not mapped.')
    if empty:
        print('Images skipped, their labels name no foreground class (no '
              f'CAM to compute; no CAM file written):\n{format_names(empty)}')
    return report_problems(problems, 'Images not mapped', args.strict)


if __name__ == '__main__':
    sys.exit(main())
