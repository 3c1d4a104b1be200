"""C²AM through mmengine's Runner: training lowers the loss, the polarity is
decided and saved, tools/test.py evaluates the saved checkpoint."""
import numpy as np
import pytest
import torch
from conftest import tiny_c2am_cfg
from mmengine.config import Config

import test as test_tool
import train as train_tool


def _config(work_dir) -> Config:
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


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('c2am_run')
    path = work_dir / 'cfg.py'
    _config(work_dir).dump(str(path))
    runner_model = train_tool.main([str(path)])
    return work_dir, path, runner_model


def test_training_lowers_the_loss_and_saves_polarity(trained):
    work_dir, _, model = trained
    log = (work_dir / 'cfg.py').parent
    ckpt = torch.load(
        work_dir / 'iter_16.pth', map_location='cpu', weights_only=False)
    assert bool(ckpt['state_dict']['polarity_decided'])
    assert float(ckpt['state_dict']['polarity']) in (-1.0, 1.0)
    logs = sorted(log.glob('*/vis_data/scalars.json'))
    import json
    losses = [
        json.loads(line)['loss'] for line in logs[-1].read_text().split('\n')
        if line.strip() and 'loss' in json.loads(line)
    ]
    assert len(losses) >= 4
    assert losses[-1] < losses[0]
    assert np.isfinite(losses).all()


def test_tools_test_evaluates_the_checkpoint(trained):
    work_dir, path, _ = trained
    metrics = test_tool.main(
        [str(path), str(work_dir / 'iter_16.pth'), '--work-dir',
         str(work_dir / 'test')])
    assert 0.0 <= metrics['mIoU'] <= 100.0


def test_missing_checkpoint_is_named(trained):
    _, path, _ = trained
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        test_tool.main([str(path), 'nope.pth'])


def test_batch_of_one_fails_clearly(tmp_path):
    cfg = _config(tmp_path)
    cfg.train_dataloader.batch_size = 1
    cfg.train_cfg.max_iters = 1
    path = tmp_path / 'one.py'
    cfg.dump(str(path))
    with pytest.raises(ValueError, match='at least 2 images per batch'):
        train_tool.main([str(path)])
