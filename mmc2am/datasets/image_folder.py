"""Unlabelled images from a folder tree or from a list file."""
import logging
from typing import List, Sequence

import mmengine.fileio as fileio
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log
from mmseg.registry import DATASETS

IMG_EXTENSIONS = ('.bmp', '.jpeg', '.jpg', '.pgm', '.png', '.ppm', '.tif',
                  '.tiff', '.webp')

# Class-agnostic maps: 0 is background, 1 is object (for visualisers and
# mask metrics that read ``dataset_meta``).
OBJECT_METAINFO = dict(
    classes=('background', 'object'), palette=[[0, 0, 0], [255, 255, 255]])

_MAX_NAMES_SHOWN = 20


def format_names(names: Sequence[str]) -> str:
    """Newline-separated names, the first 20 then a count of the rest."""
    shown = '\n  '.join(names[:_MAX_NAMES_SHOWN])
    rest = len(names) - _MAX_NAMES_SHOWN
    return '  ' + shown + (f'\n  ... and {rest} more' if rest > 0 else '')


@DATASETS.register_module()
class ImageFolderDataset(BaseDataset):
    """Images without labels, from a folder tree or a list file.

    Without ``ann_file`` the image folder is scanned (recursively by
    default) for files ending in ``extensions`` (case-insensitive; names
    starting with '.' are ignored). With ``ann_file`` every non-blank line
    that does not start with '#' is one image path, relative to the image
    folder, to which ``img_suffix`` is appended (e.g. VOC ids + '.jpg').
    A scan is sorted by relative path; a list keeps its own order. Either
    way the order is deterministic.

    Only existence is checked when the dataset is built (cheap, even for
    ILSVRC's 1.28M files); the content is checked when the image is read by
    :class:`LoadImageBGR8`, which names the file on failure (or, with
    ``skip_unreadable=True``, skips it).

    Each sample is ``dict(img_path=...)``, ready for ``LoadImageBGR8``.

    Args:
        data_root (str): Root of the data set; relative ``ann_file`` and
            ``data_prefix`` paths are joined to it. Defaults to ''.
        data_prefix (dict): ``img_path``: the image folder. Defaults to
            ``dict(img_path='')`` (the data root itself).
        ann_file (str): Optional list file. Defaults to '' (scan).
        img_suffix (str): Appended to every listed path. Defaults to ''.
        extensions (Sequence[str]): File endings taken by the scan.
            Defaults to :data:`IMG_EXTENSIONS`.
        recursive (bool): Scan sub-folders too. Defaults to True.
        skip_missing (bool): Listed images that do not exist are dropped
            and named in a warning (and kept in ``self.skipped``) instead of
            raising. Defaults to False.
        backend_args (dict, optional): mmengine file backend arguments.
            Defaults to None.
        **kwargs: Other :class:`mmengine.dataset.BaseDataset` arguments
            (``pipeline``, ``test_mode``, ``indices``...).

    Raises:
        FileNotFoundError: Missing image folder or list file, or (without
            ``skip_missing``) listed images that do not exist.
        ValueError: No image found.
    """

    METAINFO = OBJECT_METAINFO

    def __init__(self,
                 data_root: str = '',
                 data_prefix: dict = dict(img_path=''),
                 ann_file: str = '',
                 img_suffix: str = '',
                 extensions: Sequence[str] = IMG_EXTENSIONS,
                 recursive: bool = True,
                 skip_missing: bool = False,
                 backend_args=None,
                 **kwargs) -> None:
        self.img_suffix = img_suffix
        self.extensions = tuple(ext.lower() for ext in extensions)
        self.recursive = recursive
        self.skip_missing = skip_missing
        self.backend_args = backend_args
        self.skipped: List[str] = []
        super().__init__(
            data_root=data_root,
            data_prefix=data_prefix,
            ann_file=ann_file,
            **kwargs)

    @property
    def img_dir(self) -> str:
        """The image folder (data root joined with ``data_prefix``)."""
        return self.data_prefix.get('img_path', '')

    def _where(self) -> str:
        return (f'{self.__class__.__name__}(data_root="{self.data_root}", '
                f'data_prefix={self.data_prefix}, ann_file="{self.ann_file}")')

    def _check_file(self, path: str, what: str) -> None:
        if not fileio.isfile(path, backend_args=self.backend_args):
            raise FileNotFoundError(
                f'{self._where()}: {what} {path} does not exist. Set '
                '`data_root` (e.g. with --cfg-options '
                'train_dataloader.dataset.data_root=...) to where the data '
                'set lies.')

    def read_list(self) -> List[str]:
        """Relative image paths listed in ``ann_file``, suffix appended."""
        self._check_file(self.ann_file, 'list file')
        text = fileio.get_text(self.ann_file, backend_args=self.backend_args)
        return [
            line.strip() + self.img_suffix for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith('#')
        ]

    def scan_folder(self) -> List[str]:
        """Relative paths of the image files in the image folder."""
        if not self.img_dir or not fileio.isdir(
                self.img_dir, backend_args=self.backend_args):
            raise FileNotFoundError(
                f'{self._where()}: image folder "{self.img_dir}" does not '
                'exist. Set `data_root` / `data_prefix.img_path` to a folder '
                'of images.')
        names = fileio.list_dir_or_file(
            self.img_dir,
            list_dir=False,
            recursive=self.recursive,
            backend_args=self.backend_args)
        return [
            name for name in names
            if name.lower().endswith(self.extensions) and not any(
                part.startswith('.') for part in name.split('/'))
        ]

    def relative_paths(self) -> List[str]:
        """Image paths relative to :attr:`img_dir`, before checking.

        Subclasses that parse another layout override this.
        """
        return self.read_list() if self.ann_file else self.scan_folder()

    def _drop_missing(self, paths: List[str]) -> List[str]:
        missing = [
            path for path in paths
            if not fileio.isfile(path, backend_args=self.backend_args)
        ]
        if not missing:
            return paths
        listed = format_names(missing)
        if not self.skip_missing:
            raise FileNotFoundError(
                f'{self._where()}: {len(missing)} of {len(paths)} listed '
                f'images do not exist:\n{listed}\nFix the list, or set '
                '`skip_missing=True` to skip them.')
        print_log(
            f'{self._where()}: skipped {len(missing)} of {len(paths)} listed '
            f'images that do not exist:\n{listed}',
            logger='current',
            level=logging.WARNING)
        self.skipped = missing
        missing_set = set(missing)
        return [path for path in paths if path not in missing_set]

    def load_data_list(self) -> List[dict]:
        """``dict(img_path=...)`` of every image found or listed."""
        scanned = not self.ann_file
        relative = self.relative_paths()
        if scanned:
            relative = sorted(relative)
        paths = [fileio.join_path(self.img_dir, name) for name in relative]
        if not scanned:
            paths = self._drop_missing(paths)
        if not paths:
            found = (f'in "{self.img_dir}" with endings {self.extensions}'
                     if scanned else 'in the list')
            raise ValueError(f'{self._where()}: no image found {found}.')
        return [dict(img_path=path) for path in paths]
