"""Datasets of tools that map every image: built for loading only, and
read without stopping at an unreadable image."""
from typing import Callable, List, Optional, Sequence, Tuple

from mmengine.dataset import BaseDataset, Compose
from mmseg.registry import DATASETS
from torch.utils.data import Dataset

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
