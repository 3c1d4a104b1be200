"""Pseudo labels from files: the CAM file and cue PNG of an image.

Shared by ``tools/refine_cam_labels.py`` (label PNGs written ahead),
``tools/eval_pseudo_labels.py`` and the load-time transform
``LoadRefinedCAMLabel`` (labels built while training), so that every path
refines the same way (method.md section 6.5,
:func:`mmc2am.functional.pseudo_labels.refine_labels`).
"""
import os
import os.path as osp
from typing import List, Optional, Sequence

import numpy as np

from mmc2am.functional.cues import read_cue
from mmc2am.functional.pseudo_labels import (read_cams, refine_labels,
                                             threshold_labels)
from mmc2am.utils.io import read_names

# CAM files, in order of preference when both exist.
CAM_SUFFIXES = ('.npy', '.npz')
# Errors of one image's files; anything else is a bug and propagates.
INPUT_ERRORS = (ValueError, OSError)


def image_names(folder: str,
                suffixes: Sequence[str],
                list_file: Optional[str] = None) -> List[str]:
    """Names of the images to process.

    Args:
        folder (str): Folder whose files name the images.
        suffixes (Sequence[str]): File endings that count, e.g.
            ``('.npy', '.npz')``.
        list_file (str, optional): File with one name per line (first word
            of each, as :func:`mmc2am.utils.io.read_names` reads it; e.g.
            VOC ``ImageSets`` or an image-level label file). Defaults to
            None.

    Returns:
        list[str]: The names of ``list_file`` if given, else the sorted
        stems of the files in ``folder`` ending in ``suffixes``.
    """
    if list_file:
        return read_names(list_file)
    if not osp.isdir(folder):
        raise FileNotFoundError(f'folder {folder} does not exist.')
    names = {
        osp.splitext(f)[0]
        for f in os.listdir(folder) if osp.splitext(f)[1] in suffixes
    }
    return sorted(names)


def find_cam_file(cam_dir: str,
                  name: str,
                  suffixes: Sequence[str] = CAM_SUFFIXES) -> str:
    """The CAM file of image ``name``: ``<cam_dir>/<name><suffix>``.

    Args:
        cam_dir (str): Folder of CAM files.
        name (str): Image name (file stem).
        suffixes (Sequence[str]): Endings tried in order. Defaults to
            ``('.npy', '.npz')``.

    Returns:
        str: The first path that exists.

    Raises:
        FileNotFoundError: None exists.
    """
    for suffix in suffixes:
        path = osp.join(cam_dir, name + suffix)
        if osp.isfile(path):
            return path
    tried = ' or '.join(name + s for s in suffixes)
    raise FileNotFoundError(
        f'no CAM file {tried} in {cam_dir}: infer the class CAMs of this '
        'image (IRN layout, see read_cams), or leave it out of the list.')


def labels_from_files(cam_file: str,
                      cue_file: Optional[str] = None,
                      bg_threshold: Optional[float] = None,
                      ignore_below: Optional[float] = None) -> np.ndarray:
    """The pseudo label of one image from its CAM file and cue PNG.

    With ``cue_file`` the background score is ``1 - cue``
    (:func:`refine_labels`); without it, the constant ``bg_threshold``
    (:func:`threshold_labels`, the baseline).

    Args:
        cam_file (str): ``.npy`` / ``.npz`` CAM file (layouts in
            :func:`mmc2am.functional.pseudo_labels.read_cams`), CAMs in
            ``[0, 1]`` at image size.
        cue_file (str, optional): Cue PNG, foreground 255, at image size.
            Defaults to None (baseline).
        bg_threshold (float, optional): Background score of the baseline;
            needed exactly when ``cue_file`` is None. Defaults to None.
        ignore_below (float, optional): Pixels whose winning score is below
            this become 255 (ignored). Defaults to None.

    Returns:
        np.ndarray[H, W]: uint8 class ids, 0 background, 255 ignored.

    Raises:
        FileNotFoundError: A file does not exist.
        ValueError: Unreadable or inconsistent files, a CAM file without a
            foreground class, or both or neither of ``cue_file`` and
            ``bg_threshold``.
    """
    if (cue_file is None) == (bg_threshold is None):
        raise ValueError('give either a cue file or a background threshold '
                         f'(got cue_file={cue_file!r}, bg_threshold='
                         f'{bg_threshold!r}).')
    cams, class_ids = read_cams(cam_file)
    if len(class_ids) == 0:
        raise ValueError(f'no foreground class in {cam_file} (empty keys): '
                         'every image needs at least one present class.')
    if cue_file is None:
        return threshold_labels(cams, class_ids, bg_threshold, ignore_below)
    if not osp.isfile(cue_file):
        raise FileNotFoundError(
            f'cue file {cue_file} does not exist: write the background cue '
            'of this image (PNG, foreground 255), or use the constant-'
            'threshold baseline without cues.')
    cue = read_cue(cue_file)
    if cue.shape != cams.shape[1:]:
        raise ValueError(
            f'cue {cue_file} is {cue.shape[0]}x{cue.shape[1]} but the CAMs '
            f'of {cam_file} are {cams.shape[1]}x{cams.shape[2]} (height x '
            'width): both must be at the size of the image; write again '
            'the one made from another image or at another size.')
    return refine_labels(cams, class_ids, cue, ignore_below)
