import os
import sys
from typing import Optional

import pytest
import torch
from mmengine.config import Config
from mmseg.registry import MODELS

import mmc2am  # noqa: F401  registers mmc2am's modules

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


def tiny_classifier_cfg(num_classes: int) -> dict:
    """A multi-label GAPClassifier of ``num_classes`` on the encoder of
    :func:`tiny_c2am_cfg` (96 channels)."""
    c2am = tiny_c2am_cfg()
    return dict(
        type='GAPClassifier',
        data_preprocessor=c2am['data_preprocessor'],
        backbone=c2am['backbone'],
        neck=c2am['neck'],
        in_channels=96,
        num_classes=num_classes,
        multi_label=True)


def write_model_files(cfg: dict,
                      cfg_path: str,
                      checkpoint: str,
                      polarity: Optional[bool] = None) -> torch.nn.Module:
    """Dump a config and save the fixed (seed 0) initial weights of its
    model, as a tool test's config and checkpoint.

    Args:
        cfg (dict): The config, with its ``model``; dumped to ``cfg_path``.
        cfg_path (str): A ``.py`` file.
        checkpoint (str): Where ``{'state_dict': ...}`` is saved.
        polarity (bool, optional): ``set_polarity`` of a C2AM before
            saving. Defaults to None: left undecided.

    Returns:
        torch.nn.Module: The saved model, in eval mode.
    """
    Config(cfg).dump(cfg_path)
    torch.manual_seed(0)
    model = MODELS.build(cfg['model']).eval()
    if polarity is not None:
        model.set_polarity(polarity)
    torch.save({'state_dict': model.state_dict()}, checkpoint)
    return model


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
