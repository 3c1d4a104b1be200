import os
import sys

import pytest
from mmengine.config import Config

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


def scenes_runner_cfg(work_dir) -> Config:
    """A Runner config: the tiny C2AM on 64 px synthetic scenes, 16
    iterations of batch 8, polarity decided after 4, checkpoint at 16."""
    scenes = dict(type='SyntheticScenesDataset', img_size=64)
    pack = dict(
        type='PackSegInputs',
        meta_keys=('img_path', 'ori_shape', 'img_shape', 'flip',
                   'flip_direction'))
    return Config(
        dict(
            default_scope='mmseg',
            custom_imports=dict(imports=['mmc2am'],
                                allow_failed_imports=False),
            work_dir=str(work_dir),
            randomness=dict(seed=0),
            model=tiny_c2am_cfg(),
            train_dataloader=dict(
                batch_size=8,
                num_workers=0,
                drop_last=True,
                sampler=dict(type='InfiniteSampler', shuffle=True),
                dataset=dict(
                    scenes,
                    num_scenes=16,
                    seed=0,
                    pipeline=[
                        dict(type='RandomFlip', prob=0.5), pack
                    ])),
            test_dataloader=dict(
                batch_size=4,
                num_workers=0,
                sampler=dict(type='DefaultSampler', shuffle=False),
                dataset=dict(
                    scenes,
                    num_scenes=8,
                    seed=2,
                    test_mode=True,
                    pipeline=[pack])),
            test_evaluator=dict(type='IoUMetric', iou_metrics=['mIoU']),
            test_cfg=dict(type='TestLoop'),
            train_cfg=dict(type='IterBasedTrainLoop', max_iters=16),
            optim_wrapper=dict(
                type='OptimWrapper',
                optimizer=dict(type='SGD', lr=0.05, momentum=0.9)),
            default_hooks=dict(
                logger=dict(type='LoggerHook', interval=4),
                checkpoint=dict(
                    type='CheckpointHook', by_epoch=False, interval=16)),
            custom_hooks=[
                dict(type='C2AMPolarityHook', decide_after_iters=4)
            ],
            log_processor=dict(by_epoch=False),
        ))


@pytest.fixture
def one_thread():
    """Tiny models run as fast on one thread, and a second core busy with
    another process then cannot stall OpenMP (measured: 100x slower)."""
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def mmseg_scope():
    """Every test builds under default_scope='mmseg', as our configs do."""
    import mmc2am  # noqa: F401
    from mmengine.registry import DefaultScope, init_default_scope
    init_default_scope('mmseg')
    yield
    DefaultScope._instance_dict.clear()
