"""Train a model from an mmengine config (C²AM or any mmseg / mmdet model).

Example:
    python tools/train.py configs/c2am/c2am_r50_cub.py --work-dir work_dirs/cub
"""
import argparse

import torch
from mmengine.config import Config
from mmengine.runner import Runner

import mmc2am  # noqa: F401  registers mmc2am even if a config forgets to
from mmc2am.utils.tool_config import add_runner_args, load_config


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume',
        action='store_true',
        help='resume from the latest checkpoint in the work dir')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed precision: float16 AMP with loss scaling on CUDA, '
        'bfloat16 autocast elsewhere')
    add_runner_args(parser)
    return parser.parse_args(argv)


def build_config(args: argparse.Namespace) -> Config:
    """Load the config; apply ``--amp`` and ``--resume``."""
    cfg = load_config(args)
    if args.amp:
        wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if wrapper not in ('OptimWrapper', 'AmpOptimWrapper',
                           'AutocastOptimWrapper'):
            raise ValueError('--amp needs optim_wrapper.type OptimWrapper; '
                             f'the config has {wrapper}.')
        if wrapper == 'OptimWrapper' and torch.cuda.is_available():
            # mmengine's AMP: float16 autocast with dynamic loss scaling.
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        elif wrapper == 'OptimWrapper':
            # No CUDA: bfloat16 autocast, which needs no loss scaling.
            cfg.optim_wrapper.type = 'AutocastOptimWrapper'
            cfg.optim_wrapper.setdefault('dtype', 'bfloat16')
    cfg.resume = args.resume
    return cfg


def main(argv=None):
    return Runner.from_cfg(build_config(parse_args(argv))).train()


if __name__ == '__main__':
    main()
