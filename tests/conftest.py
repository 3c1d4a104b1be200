import os
import sys

import pytest

# Tools are scripts, not a package: make `import train` etc. resolvable.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tools'))


def tiny_c2am_cfg(**overrides) -> dict:
    """A C2AM model small enough for CPU tests: ResNet-18 with 8 base
    channels, stages 3 and 4 (32 + 64 channels) at stride 16."""
    cfg = dict(
        type='C2AM',
        data_preprocessor=dict(
            type='SegDataPreProcessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            bgr_to_rgb=True,
            size_divisor=1),
        backbone=dict(
            type='ResNet',
            depth=18,
            stem_channels=8,
            base_channels=8,
            strides=(1, 2, 2, 1),
            dilations=(1, 1, 1, 2),
            out_indices=(2, 3)),
        neck=dict(type='ConcatStages', in_indices=(0, 1)),
        head=dict(type='C2AMHead', in_channels=96),
        loss=dict(type='C2AMLoss', alpha=0.25))
    cfg.update(overrides)
    return cfg


@pytest.fixture(autouse=True)
def mmseg_scope():
    """Every test builds under default_scope='mmseg', as our configs do."""
    import mmc2am  # noqa: F401
    from mmengine.registry import DefaultScope, init_default_scope
    init_default_scope('mmseg')
    yield
    DefaultScope._instance_dict.clear()
