"""Test (evaluate) a trained model from an mmengine config and a checkpoint.

Example:
    python tools/test.py configs/c2am/c2am_r50_cub.py \\
        work_dirs/cub/epoch_20.pth
"""
import argparse
import os.path as osp

from mmengine.config import Config
from mmengine.runner import Runner

import mmc2am  # noqa: F401  registers mmc2am even if a config forgets to
from mmc2am.utils.tool_config import add_runner_args, load_config


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--show-dir', help='directory where painted maps will be saved')
    add_runner_args(parser)
    return parser.parse_args(argv)


def build_config(args: argparse.Namespace) -> Config:
    """Load the config and point it at the checkpoint."""
    cfg = load_config(args)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(
            f'checkpoint file "{args.checkpoint}" does not exist')
    cfg.load_from = args.checkpoint
    if args.show_dir:
        hook = cfg.get('default_hooks', {}).get('visualization')
        if hook is None:
            raise KeyError('--show-dir needs default_hooks.visualization '
                           '(e.g. SegVisualizationHook) in the config.')
        hook.draw = True
        hook.show = False
        cfg.visualizer.save_dir = args.show_dir
    return cfg


def main(argv=None) -> dict:
    return Runner.from_cfg(build_config(parse_args(argv))).test()


if __name__ == '__main__':
    main()
