"""Image-level class labels in a text file, and the images they label.

The file format (one image a line, written by ``tools/export_scenes.py
--layout voc``, read by ``tools/infer_cams.py`` and
:class:`ImageLabelDataset`)::

    # comment lines and blank lines are skipped
    train_00000 0 2
    train_00001 3
    train_00002

Each line is an image name (the file stem, as in VOC ``ImageSets`` lists)
followed by the 0-based indices of the foreground classes present in the
image, separated by white space; segmentation class id ``c + 1`` is class
index ``c`` (0 is the background). A name alone means no foreground class.
"""
from typing import Dict, List, Sequence

import mmengine.fileio as fileio
from mmseg.registry import DATASETS

from mmc2am.utils.io import atomic_output
from .image_folder import ImageFolderDataset


def read_image_labels(path: str, backend_args=None) -> Dict[str, List[int]]:
    """Read an image-level label file (format above).

    Args:
        path (str): The label file.
        backend_args (dict, optional): mmengine file backend arguments.
            Defaults to None.

    Returns:
        dict[str, list[int]]: Present class indices (sorted, distinct) of
        each image, in file order.

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: A class index that is not a non-negative integer, or a
            name given twice (the message names the file and line).
    """
    if not fileio.isfile(path, backend_args=backend_args):
        raise FileNotFoundError(f'image label file {path} does not exist.')
    text = fileio.get_text(path, backend_args=backend_args)
    labels: Dict[str, List[int]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split()
        if not words or words[0].startswith('#'):
            continue
        name, classes = words[0], words[1:]
        if not all(c.isdigit() for c in classes):
            raise ValueError(
                f'{path}, line {number}: "{line.strip()}" is not a name '
                'followed by 0-based class indices (non-negative integers).')
        if name in labels:
            raise ValueError(f'{path}, line {number}: image "{name}" is '
                             'listed twice.')
        labels[name] = sorted({int(c) for c in classes})
    return labels


def write_image_labels(path: str, labels: Dict[str, Sequence[int]]) -> None:
    """Write an image-level label file (format above), atomically.

    Args:
        path (str): Output file; its folder is created.
        labels (dict[str, Sequence[int]]): Present 0-based class indices of
            each image, in the order to write.
    """
    with atomic_output(path) as tmp, open(tmp, 'w') as f:
        for name, classes in labels.items():
            f.write(' '.join([name] + [str(int(c)) for c in classes]) + '\n')


@DATASETS.register_module()
class ImageLabelDataset(ImageFolderDataset):
    """Images with image-level class labels, for a multi-label classifier.

    ``ann_file`` is an image-level label file (format above): it lists the
    images (``<img_dir>/<name><img_suffix>``) and gives each sample
    ``gt_label``, the list of its present class indices (what
    ``GAPClassifier(multi_label=True)`` reads; add ``gt_label`` to
    ``PackSegInputs``' ``meta_keys``). Everything else is
    :class:`ImageFolderDataset`'s (``skip_missing``, errors...).

    Args:
        ann_file (str): The label file (required).
        **kwargs: :class:`ImageFolderDataset` arguments (``data_root``,
            ``data_prefix``, ``img_suffix``, ``metainfo``...).
    """

    def __init__(self, ann_file: str = '', **kwargs) -> None:
        if not ann_file:
            raise ValueError('ImageLabelDataset needs ann_file, the image '
                             'label file.')
        super().__init__(ann_file=ann_file, **kwargs)

    def load_data_list(self) -> List[dict]:
        """``dict(img_path, gt_label)`` of every labelled image."""
        self._check_file(self.ann_file, 'image label file')
        labels = read_image_labels(self.ann_file, self.backend_args)
        if not labels:
            raise ValueError(f'{self._where()}: no image in the label file.')
        paths = {
            fileio.join_path(self.img_dir, name + self.img_suffix): classes
            for name, classes in labels.items()
        }
        kept = self._drop_missing(list(paths))
        return [dict(img_path=path, gt_label=paths[path]) for path in kept]
