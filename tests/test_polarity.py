from types import SimpleNamespace

import pytest
import torch
from conftest import tiny_c2am_cfg
from mmseg.registry import HOOKS, MODELS

from mmc2am.functional.polarity import (border_centre_sums,
                                        reference_needs_flip)


def _maps(border_value, centre_value, n=2, size=8):
    maps = torch.full((n, 1, size, size), centre_value)
    maps[..., 0, :] = border_value
    maps[..., -1, :] = border_value
    maps[..., :, 0] = border_value
    maps[..., :, -1] = border_value
    return maps


def test_border_centre_sums_by_hand():
    maps = _maps(0.8, 0.1, n=2, size=8)
    border, centre, n_border, n_centre = border_centre_sums(maps)
    assert n_border == 2 * 28 and n_centre == 2 * 16
    assert border.item() == pytest.approx(0.8 * 56)
    assert centre.item() == pytest.approx(0.1 * 32)


def test_reference_rule():
    assert reference_needs_flip(_maps(0.9, 0.1))
    assert not reference_needs_flip(_maps(0.1, 0.9))
    # Only the first image counts, binarised at 0.5.
    maps = torch.cat([_maps(0.2, 0.9, n=1), _maps(0.9, 0.1, n=1)])
    assert not reference_needs_flip(maps)


class _FakeRunner(SimpleNamespace):
    pass


def _run_hook(hook_cfg, batches, max_iters=None, epoch_len=None):
    model = MODELS.build(tiny_c2am_cfg())
    hook = HOOKS.build(hook_cfg)
    loop = SimpleNamespace(max_epochs=1, dataloader=[None] * epoch_len) \
        if epoch_len else SimpleNamespace()
    runner = _FakeRunner(model=model, train_loop=loop, max_iters=max_iters,
                         iter=0)
    decided_at = None
    for i, maps in enumerate(batches):
        runner.iter = i
        model.last_train_maps = maps
        hook.after_train_iter(runner, i)
        if decided_at is None and bool(model.polarity_decided):
            decided_at = i + 1
    return model, decided_at


@pytest.mark.parametrize('mode', ['border_centre', 'reference'])
def test_hook_flips_background_maps_and_keeps_object_maps(mode):
    flipped, at = _run_hook(
        dict(type='C2AMPolarityHook', mode=mode, decide_after_iters=3),
        [_maps(0.9, 0.2)] * 5)
    assert flipped.flipped and at == 3
    kept, _ = _run_hook(
        dict(type='C2AMPolarityHook', mode=mode, decide_after_iters=3),
        [_maps(0.2, 0.9)] * 5)
    assert bool(kept.polarity_decided) and not kept.flipped


def test_hook_accumulates_over_batches_and_epochs():
    # One misleading batch among object-like ones: the totals decide.
    batches = [_maps(0.6, 0.5)] + [_maps(0.1, 0.7)] * 3
    model, at = _run_hook(dict(type='C2AMPolarityHook'), batches,
                          epoch_len=4)
    assert at == 4 and not model.flipped
    # Iteration-based default: 10% of max_iters.
    model, at = _run_hook(dict(type='C2AMPolarityHook'),
                          [_maps(0.9, 0.1)] * 30, max_iters=50)
    assert at == 5 and model.flipped


def test_hook_leaves_a_decided_model_alone():
    model = MODELS.build(tiny_c2am_cfg())
    model.set_polarity(True)
    hook = HOOKS.build(dict(type='C2AMPolarityHook', decide_after_iters=1))
    model.last_train_maps = _maps(0.1, 0.9)
    hook.after_train_iter(
        _FakeRunner(model=model, train_loop=None, iter=0, max_iters=10), 0)
    assert model.flipped


def test_hook_rejects_bad_arguments():
    with pytest.raises(ValueError, match='mode="edges"'):
        HOOKS.build(dict(type='C2AMPolarityHook', mode='edges'))
    with pytest.raises(ValueError, match='decide_after_iters=0'):
        HOOKS.build(dict(type='C2AMPolarityHook', decide_after_iters=0))


def test_hook_ignores_models_without_polarity():
    model = MODELS.build(
        dict(type='GAPClassifier', backbone=tiny_c2am_cfg()['backbone'],
             in_channels=64, num_classes=3))
    hook = HOOKS.build(dict(type='C2AMPolarityHook', decide_after_iters=1))
    hook.after_train_iter(
        _FakeRunner(model=model, train_loop=None, iter=0, max_iters=10), 0)
    assert not hasattr(model, 'polarity')
