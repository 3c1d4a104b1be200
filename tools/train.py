"""Train a model from an mmengine config (C²AM or any mmseg / mmdet model).

Example:
    python tools/train.py configs/c2am/c2am_r50_cub.py --work-dir work_dirs/cub
"""
import argparse

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
        help='enable automatic mixed precision training')
    add_runner_args(parser)
    return parser.parse_args(argv)


def build_config(args: argparse.Namespace) -> Config:
    """Load the config; apply ``--amp`` and ``--resume``."""
    cfg = load_config(args)
    if args.amp:
        wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if wrapper == 'OptimWrapper':
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        elif wrapper != 'AmpOptimWrapper':
            raise ValueError('--amp needs optim_wrapper.type OptimWrapper or '
                             f'AmpOptimWrapper; the config has {wrapper}.')
    cfg.resume = args.resume
    return cfg


def main(argv=None):
    return Runner.from_cfg(build_config(parse_args(argv))).train()


if __name__ == '__main__':
    main()
