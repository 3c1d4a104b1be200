"""Interruption and mixed precision: resuming reproduces an uninterrupted run;
bf16 autocast gives the float32 loss."""
import itertools
import json

import pytest
import torch
from conftest import scenes_runner_cfg, tiny_c2am_cfg
from mmengine.hooks import Hook
from mmseg.registry import HOOKS, MODELS

import train as train_tool


@HOOKS.register_module()
class _KillAfterIter(Hook):
    """Simulates a crash right after the given (1-based) iteration."""

    def __init__(self, after: int) -> None:
        self.after = after

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if runner.iter + 1 == self.after:
            raise KeyboardInterrupt('killed for the test')


_RUN_IDS = itertools.count()


def _losses_by_iter(work_dir):
    losses = {}
    for path in sorted(work_dir.glob('*/vis_data/scalars.json')):
        for line in path.read_text().splitlines():
            rec = json.loads(line)
            if 'loss' in rec:
                losses[rec['iter']] = (rec['loss'], rec['lr'])
    return losses


def _run(work_dir, *extra, kill_after=None):
    cfg = scenes_runner_cfg(work_dir)
    cfg.train_cfg.max_iters = 10
    cfg.default_hooks.logger.interval = 1
    # Log each iteration's own loss, not a moving average over the run's
    # MessageHub history.
    cfg.log_processor.window_size = 1
    # mmengine keys MessageHub instances by '<name>_<timestamp>': runs
    # started within the same second would share one without a unique name.
    cfg.experiment_name = f'{work_dir.name}_{next(_RUN_IDS)}'
    cfg.default_hooks.checkpoint.interval = 5
    cfg.param_scheduler = [
        dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=False,
             begin=0, end=10)
    ]
    cfg.custom_hooks[0].decide_after_iters = 3
    if kill_after:
        cfg.custom_hooks.append(dict(type='_KillAfterIter', after=kill_after))
    work_dir.mkdir(parents=True, exist_ok=True)
    path = work_dir / 'cfg.py'
    cfg.dump(str(path))
    return train_tool.main([str(path), *extra])


def test_resume_continues_like_an_uninterrupted_run(tmp_path):
    _run(tmp_path / 'straight')
    straight = _losses_by_iter(tmp_path / 'straight')

    resumed_dir = tmp_path / 'resumed'
    with pytest.raises(KeyboardInterrupt):
        _run(resumed_dir, kill_after=7)  # checkpoint at 5, dies at 7
    assert (resumed_dir / 'iter_5.pth').exists()
    model = _run(resumed_dir, '--resume')
    resumed = _losses_by_iter(resumed_dir)

    assert sorted(straight) == list(range(1, 11))
    for it in range(6, 11):  # iterations replayed after the checkpoint
        loss, lr = resumed[it]
        assert loss == pytest.approx(straight[it][0], abs=1e-4), it
        assert lr == pytest.approx(straight[it][1], rel=1e-6), it
    final = torch.load(resumed_dir / 'iter_10.pth', weights_only=False)
    ref = torch.load(tmp_path / 'straight' / 'iter_10.pth',
                     weights_only=False)
    assert final['meta']['iter'] == 10
    assert torch.equal(final['state_dict']['polarity'],
                       ref['state_dict']['polarity'])
    assert bool(model.polarity_decided)


def test_amp_flag_trains_under_bf16_autocast_on_cpu(tmp_path):
    model = _run(tmp_path, '--amp')
    assert model.last_train_maps.dtype == torch.bfloat16
    losses = _losses_by_iter(tmp_path)
    assert all(torch.isfinite(torch.tensor(v[0])) for v in losses.values())


def test_bf16_autocast_loss_matches_float32():
    torch.manual_seed(0)
    model = MODELS.build(tiny_c2am_cfg()).train()
    x = torch.rand(6, 3, 64, 64)
    ref = model(x, mode='loss')
    with torch.autocast('cpu', dtype=torch.bfloat16):
        amp = model(x, mode='loss')
    for key, value in ref.items():
        assert amp[key].dtype == torch.float32
        assert amp[key].item() == pytest.approx(value.item(), rel=0.05,
                                                abs=2e-3), key
