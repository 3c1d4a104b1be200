"""Arguments, config loading and the end-of-run report shared by the
tools: the runner tools (``tools/train.py``, ``tools/test.py``) and the
inference tools that map many images (``tools/infer_maps.py``,
``infer_cams.py``, ``predict_cues.py``, ``extract_boxes.py``,
``visualize_maps.py``)."""
import argparse
import os
import os.path as osp
from typing import Optional, Sequence

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

from mmc2am.datasets.image_folder import format_names
from mmc2am.utils.io import file_fingerprint


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


def add_model_args(parser: argparse.ArgumentParser, config_help: str,
                   checkpoint_help: str) -> None:
    """Add the positional ``config`` and ``checkpoint`` of an inference
    tool."""
    parser.add_argument('config', help=config_help)
    parser.add_argument('checkpoint', help=checkpoint_help)


def model_settings(args: argparse.Namespace) -> dict:
    """The model part of a resumable tool's ``settings.json``: the config
    and checkpoint paths and the checkpoint's SHA-256, so that a checkpoint
    retrained at the same path is not taken for the one the outputs were
    made with.

    Args:
        args (argparse.Namespace): Parsed arguments with ``config`` and
            ``checkpoint`` (:func:`add_model_args`).

    Returns:
        dict: ``config``, ``checkpoint`` (absolute paths) and
        ``checkpoint_sha256``.

    Raises:
        FileNotFoundError: The checkpoint does not exist.
    """
    return dict(
        config=osp.abspath(args.config),
        checkpoint=osp.abspath(args.checkpoint),
        checkpoint_sha256=file_fingerprint(args.checkpoint, 'checkpoint'))


def add_inference_args(parser: argparse.ArgumentParser,
                       workers: bool = True,
                       strict_help: Optional[str] = None) -> None:
    """Add the options of an inference tool: ``--workers`` (image loading
    processes, default 2), ``--device`` (default: cuda if available, else
    cpu), ``--strict`` and ``--cfg-options``.

    Args:
        parser (argparse.ArgumentParser): The tool's parser.
        workers (bool): Add ``--workers``. Defaults to True.
        strict_help (str, optional): Help of ``--strict`` (exit status 1
            when some input was listed as a problem). Defaults to None: no
            ``--strict``.
    """
    if workers:
        parser.add_argument(
            '--workers', type=int, default=2, help='image loading processes')
    parser.add_argument(
        '--device',
        default='cuda' if torch.cuda.is_available() else 'cpu',
        help='default: cuda if available, else cpu')
    if strict_help is not None:
        parser.add_argument('--strict', action='store_true', help=strict_help)
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value')


def add_multiscale_args(parser: argparse.ArgumentParser) -> None:
    """Add the test-time augmentation of the multi-scale tools
    (:mod:`mmc2am.apis.multiscale`): ``--scales`` (resize factors, default
    0.5 1.0 1.5 2.0) and ``--no-flip`` (leave out the horizontal flips)."""
    parser.add_argument(
        '--scales',
        type=float,
        nargs='+',
        default=[0.5, 1.0, 1.5, 2.0],
        help='resize factors (default: 0.5 1.0 1.5 2.0)')
    parser.add_argument(
        '--no-flip',
        action='store_true',
        help='leave out the horizontal flips')


def load_inference_config(args: argparse.Namespace) -> Config:
    """Load ``args.config``, merge ``args.cfg_options`` and enter the
    config's default scope (default 'mmseg'), as the inference tools do
    before building their datasets and model.

    Args:
        args (argparse.Namespace): Arguments of :func:`add_model_args` and
            :func:`add_inference_args`.

    Returns:
        Config: The config.
    """
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    return cfg


def report_problems(problems: Sequence[str], heading: str,
                    strict: bool) -> int:
    """Print the inputs a tool skipped, under ``heading``, and give its
    exit status.

    Args:
        problems (Sequence[str]): One line per skipped input.
        heading (str): E.g. 'Images not mapped'.
        strict (bool): ``--strict``: a problem makes the status 1.

    Returns:
        int: 1 with ``strict`` and some problem, else 0.
    """
    if problems:
        print(f'{heading}:\n{format_names(problems)}')
    return 1 if problems and strict else 0
