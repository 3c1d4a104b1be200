"""Datasets of tools that map every image: built for loading only (from a
config, or from an image folder and an optional list of names), named for
their outputs, and read without stopping at an unreadable image."""
import os.path as osp
from collections import Counter
from typing import Callable, Iterator, List, Optional, Sequence, Tuple

from mmengine.dataset import BaseDataset, Compose
from mmengine.utils import ProgressBar
from mmseg.registry import DATASETS
from torch.utils.data import DataLoader, Dataset

from mmc2am.datasets.image_folder import IMG_EXTENSIONS, ImageFolderDataset
from mmc2am.datasets.image_labels import ImageLabelDataset
from mmc2am.utils.io import read_names

# Errors of one image's file; anything else is a bug and propagates.
IMAGE_ERRORS = (OSError, ValueError)


def build_load_only_dataset(dataset_cfg: dict) -> BaseDataset:
    """A dataset config built in test mode with its pipeline left out, so
    that a tool applies its own transforms (see :class:`SafeItems`).

    Args:
        dataset_cfg (dict): E.g. ``cfg.train_dataloader.dataset``.

    Returns:
        BaseDataset: The dataset; ``get_data_info(i)`` is the raw sample.
    """
    return DATASETS.build(dict(dataset_cfg, pipeline=[], test_mode=True))


def find_suffix(img_dir: str, name: str) -> str:
    """The ending that makes ``IMG_DIR/<name><ending>`` an existing file:
    '' (the name is a file), else the first of the common image endings
    (:data:`IMG_EXTENSIONS`, lower or upper case).

    Raises:
        FileNotFoundError: No such file.
    """
    for ending in ('', ) + tuple(e for x in IMG_EXTENSIONS
                                 for e in (x, x.upper())):
        if osp.isfile(osp.join(img_dir, name + ending)):
            return ending
    raise FileNotFoundError(
        f'no image {name}{{{",".join(IMG_EXTENSIONS)}}} in {img_dir} (the '
        'first listed image); check the image folder, or give the image '
        'ending (--img-suffix).')


class _NameListDataset(ImageFolderDataset):
    """:class:`ImageFolderDataset` whose list file gives an image name as
    the first word of a line (see :func:`read_names`)."""

    def read_list(self) -> List[str]:
        return [name + self.img_suffix for name in read_names(self.ann_file)]


def build_folder_dataset(img_dir: str,
                         list_file: Optional[str] = None,
                         img_suffix: Optional[str] = None,
                         labelled: bool = False) -> ImageFolderDataset:
    """The images of a folder, built for loading only, as the tools'
    ``--img-dir DIR [--list FILE] [--img-suffix SUFFIX]`` give them.

    Without ``list_file`` the folder is scanned recursively for image
    files. With it, the image of each listed name (:func:`read_names`) is
    ``IMG_DIR/<name><img_suffix>``; listed images that do not exist are
    left out and kept in the dataset's ``skipped`` (for the tool's list of
    problems).

    Args:
        img_dir (str): The image folder.
        list_file (str, optional): Names of the images to take. Defaults
            to None (every image of the folder).
        img_suffix (str, optional): Appended to each listed name. Defaults
            to None: found from the first listed image (:func:`find_suffix`).
        labelled (bool): ``list_file`` is an image-level label file and the
            samples get its ``gt_label`` (:class:`ImageLabelDataset`).
            Defaults to False.

    Returns:
        ImageFolderDataset: Samples ``dict(img_path=...)`` (absolute
        paths), in list order or sorted by relative path.

    Raises:
        FileNotFoundError: A missing folder or list file.
        ValueError: No image (an empty list, an empty folder, or none of
            the listed images exists).
    """
    if not osp.isdir(img_dir):
        raise FileNotFoundError(f'image folder {img_dir} does not exist.')
    kwargs = dict(
        data_prefix=dict(img_path=osp.abspath(img_dir)),
        pipeline=[],
        test_mode=True,
        serialize_data=False)
    if not list_file:
        return ImageFolderDataset(**kwargs)
    names = read_names(list_file)
    if not names:
        raise ValueError(f'{list_file} lists no image.')
    if img_suffix is None:
        img_suffix = find_suffix(img_dir, names[0])
    dataset_type = ImageLabelDataset if labelled else _NameListDataset
    return dataset_type(
        ann_file=osp.abspath(list_file),
        img_suffix=img_suffix,
        skip_missing=True,
        **kwargs)


def folder_source(dataset: ImageFolderDataset, img_dir: str,
                  list_file: Optional[str]) -> dict:
    """Where the images of :func:`build_folder_dataset` come from, as a
    tool's ``settings.json`` records it (a re-run on other images is
    refused).

    Returns:
        dict: ``img_dir`` and ``list`` (absolute paths; ``list`` None
        without one) and ``img_suffix`` (the one the dataset uses).
    """
    return dict(
        img_dir=osp.abspath(img_dir),
        list=osp.abspath(list_file) if list_file else None,
        img_suffix=dataset.img_suffix)


def output_names(dataset: BaseDataset,
                 img_dir: Optional[str] = None) -> List[str]:
    """The output name of every image of a dataset (outputs are
    ``<name>.<ending>`` in a tool's output folder).

    Args:
        dataset (BaseDataset): Samples with ``img_path``.
        img_dir (str, optional): The image folder (e.g. of
            :func:`build_folder_dataset`): the name is the image path
            relative to it, less the dataset's ``img_suffix`` when it has
            one, else less the extension; so a listed image's name is the
            listed name, and sub-folders are kept. Defaults to None: the
            file stem.

    Returns:
        list[str]: The names, in dataset order.

    Raises:
        ValueError: Two images with one name (e.g. ``a.jpg``, ``a.png``).
    """
    suffix = getattr(dataset, 'img_suffix', '') if img_dir else ''
    names = []
    for i in range(len(dataset)):
        path = dataset.get_data_info(i)['img_path']
        if img_dir is None:
            path = osp.basename(path)
        else:
            path = osp.relpath(path, osp.abspath(img_dir))
        if suffix and path.endswith(suffix):
            names.append(path[:-len(suffix)])
        else:
            names.append(osp.splitext(path)[0])
    twice = sorted(n for n, k in Counter(names).items() if k > 1)
    if twice:
        raise ValueError(
            f'{len(twice)} output names belong to more than one image '
            f'(images differing only in their extension or folder): '
            f'{twice[:5]}. Rename the images or map the folders separately.')
    return names


class SafeItems(Dataset):
    """Dataset indices to ``(index, transformed sample or None, error)``:
    an unreadable image is reported, not raised, so a run goes on.

    Args:
        dataset (BaseDataset): A dataset from
            :func:`build_load_only_dataset`.
        indices (list[int]): The dataset indices to read, in order.
        pipeline (Sequence[dict | Callable]): Transforms of the raw sample
            (configs or callables, as :class:`mmengine.dataset.Compose`
            takes them).
    """

    def __init__(self, dataset: BaseDataset, indices: List[int],
                 pipeline: Sequence[Callable]) -> None:
        self.dataset = dataset
        self.indices = indices
        self.pipeline = Compose(list(pipeline))

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> Tuple[int, Optional[dict], str]:
        index = self.indices[i]
        info = self.dataset.get_data_info(index)
        try:
            return index, self.pipeline(info), ''
        except IMAGE_ERRORS as err:
            return index, None, f'{info.get("img_path")}: {err}'


def readable_items(dataset: BaseDataset, indices: List[int],
                   pipeline: Sequence[Callable], workers: int,
                   problems: List[str]) -> Iterator[Tuple[int, dict]]:
    """Read the dataset's ``indices`` one by one (through
    :class:`SafeItems`, in ``workers`` processes) with a progress bar.

    Args:
        dataset (BaseDataset): A dataset from :func:`build_load_only_dataset`
            or :func:`build_folder_dataset`.
        indices (list[int]): The dataset indices to read, in order.
        pipeline (Sequence[dict | Callable]): Transforms of the raw sample.
        workers (int): Loading processes (0: the main process).
        problems (list[str]): The error of every unreadable image is
            appended to it.

    Yields:
        tuple[int, dict]: ``(index, transformed sample)`` of each readable
        image.
    """
    loader = DataLoader(
        SafeItems(dataset, indices, pipeline),
        batch_size=1,
        num_workers=workers,
        collate_fn=list)
    progress = ProgressBar(len(indices))
    for [(index, sample, error)] in loader:
        progress.update()
        if sample is None:
            problems.append(error)
            continue
        yield index, sample
    print()
