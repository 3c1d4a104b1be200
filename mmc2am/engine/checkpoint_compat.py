"""Let mmengine 0.10.x load its own checkpoints under torch >= 2.6.

torch 2.6 made ``torch.load(weights_only=True)`` the default. mmengine 0.10.7
calls ``torch.load`` without that argument, and its checkpoints (``meta``,
``message_hub``, numpy scalars) are not weights-only, so resuming, testing or
``load_from`` fail with ``UnpicklingError``. On import, mmc2am registers a
local-file loader that passes ``weights_only=False``: load only checkpoints
you trust, as with any pickle file.
"""
import os.path as osp

import torch
from mmengine.runner.checkpoint import CheckpointLoader
from mmengine.utils import digit_version


def load_local_checkpoint(filename: str, map_location=None) -> dict:
    """Load a checkpoint file from the local disk, full pickle allowed.

    Args:
        filename (str): Path of the checkpoint.
        map_location (str, optional): Same as :func:`torch.load`.

    Returns:
        dict: The loaded checkpoint.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(
            f'checkpoint file "{filename}" does not exist: check the path '
            '(load_from, --checkpoint or init_cfg.checkpoint).')
    return torch.load(filename, map_location=map_location, weights_only=False)


def register_local_loader() -> None:
    """Replace mmengine's local loader when torch defaults to weights-only."""
    if digit_version(torch.__version__) >= digit_version('2.6.0'):
        CheckpointLoader.register_scheme(
            prefixes='', loader=load_local_checkpoint, force=True)
