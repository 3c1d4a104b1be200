"""Arguments and config loading shared by ``tools/train.py`` and
``tools/test.py``."""
import argparse
import os
import os.path as osp
from typing import Optional

from mmengine.config import Config, DictAction


def add_runner_args(parser: argparse.ArgumentParser) -> None:
    """Add ``--work-dir``, ``--cfg-options``, ``--launcher``, ``--local_rank``.
    """
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value, e.g. '
        'train_dataloader.batch_size=64')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local_rank / --local-rank.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_config(args: argparse.Namespace) -> Config:
    """Load ``args.config`` and apply the options of :func:`add_runner_args`.

    The work dir defaults to ``./work_dirs/<config name>`` as in mmseg.

    Args:
        args (argparse.Namespace): Parsed arguments.

    Returns:
        Config: The config, ready for ``Runner.from_cfg``.
    """
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file "{args.config}" does not exist')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    work_dir: Optional[str] = args.work_dir or cfg.get('work_dir', None)
    cfg.work_dir = work_dir or osp.join(
        './work_dirs',
        osp.splitext(osp.basename(args.config))[0])
    return cfg
