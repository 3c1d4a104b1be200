"""C²AM through mmengine's Runner: training lowers the loss, the polarity is
decided and saved, tools/test.py evaluates the saved checkpoint."""
import numpy as np
import pytest
import torch
from conftest import scenes_runner_cfg

import test as test_tool
import train as train_tool


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('c2am_run')
    path = work_dir / 'cfg.py'
    scenes_runner_cfg(work_dir).dump(str(path))
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
    cfg = scenes_runner_cfg(tmp_path)
    cfg.train_dataloader.batch_size = 1
    cfg.train_cfg.max_iters = 1
    path = tmp_path / 'one.py'
    cfg.dump(str(path))
    with pytest.raises(ValueError, match='at least 2 per batch'):
        train_tool.main([str(path)])
