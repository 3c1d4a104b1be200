"""CUB-200-2011 images of one split, in the data set's own layout."""
from typing import Dict, List

import mmengine.fileio as fileio
from mmengine.utils import is_abs
from mmseg.registry import DATASETS

from .image_folder import ImageFolderDataset

_SPLITS = ('train', 'test', 'all')


@DATASETS.register_module()
class CUBImageDataset(ImageFolderDataset):
    """The images of a CUB-200-2011 split (no labels are read).

    Layout under ``data_root`` (as distributed)::

        images/<class folder>/<name>.jpg
        images.txt             <image id> <path relative to images/>
        train_test_split.txt   <image id> <1: train, 0: test>

    Images keep the order of ``images.txt``. Missing images raise, or with
    ``skip_missing=True`` are skipped and named in a warning.

    Args:
        split (str): 'train' (5,994 images), 'test' (5,794) or 'all'.
            Defaults to 'train'.
        data_root (str): The ``CUB_200_2011`` folder. Defaults to ''.
        ann_file (str): Image list. Defaults to 'images.txt'.
        split_file (str): Split list, relative to ``data_root``.
            Defaults to 'train_test_split.txt'.
        data_prefix (dict): Image folder. Defaults to
            ``dict(img_path='images')``.
        **kwargs: Other :class:`ImageFolderDataset` arguments.
    """

    def __init__(self,
                 split: str = 'train',
                 data_root: str = '',
                 ann_file: str = 'images.txt',
                 split_file: str = 'train_test_split.txt',
                 data_prefix: dict = dict(img_path='images'),
                 **kwargs) -> None:
        if split not in _SPLITS:
            raise ValueError(f'CUBImageDataset(split="{split}"): use one of '
                             f'{_SPLITS}.')
        self.split = split
        self.split_file = split_file
        if data_root and not is_abs(split_file):
            self.split_file = fileio.join_path(data_root, split_file)
        super().__init__(
            data_root=data_root,
            ann_file=ann_file,
            data_prefix=data_prefix,
            **kwargs)

    def _read_pairs(self, path: str, what: str) -> Dict[str, str]:
        """``{first field: second field}`` of a two-column list file."""
        self._check_file(path, what)
        pairs = {}
        text = fileio.get_text(path, backend_args=self.backend_args)
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            fields = line.split(maxsplit=1)
            if len(fields) != 2:
                raise ValueError(f'{path}, line {number}: expected "<image '
                                 f'id> <value>", got "{line}".')
            pairs[fields[0]] = fields[1].strip()
        return pairs

    def relative_paths(self) -> List[str]:
        """Paths from ``images.txt`` whose id is in the chosen split."""
        paths = self._read_pairs(self.ann_file, 'image list')
        if self.split == 'all':
            return list(paths.values())
        is_train = self._read_pairs(self.split_file, 'split file')
        unsplit = [image_id for image_id in paths if image_id not in is_train]
        if unsplit:
            raise ValueError(
                f'{self.split_file} has no entry for {len(unsplit)} image '
                f'ids of {self.ann_file}, e.g. {unsplit[:5]}.')
        wanted = '1' if self.split == 'train' else '0'
        return [
            path for image_id, path in paths.items()
            if is_train[image_id] == wanted
        ]
