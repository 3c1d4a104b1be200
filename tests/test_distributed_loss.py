"""Cross-device contrast: two CPU processes (gloo) give the loss and the
gradients of one process computing it over the concatenated batch."""
import os

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from mmc2am.models.losses.c2am_loss import C2AMLoss

C = 8


def _full_batch():
    gen = torch.Generator().manual_seed(0)
    raw_fg = torch.rand(6, C, generator=gen)
    raw_bg = torch.rand(6, C, generator=gen)
    linear = torch.nn.Linear(C, C)
    with torch.no_grad():
        linear.weight.copy_(torch.rand(C, C, generator=gen) - 0.5)
        linear.bias.copy_(torch.rand(C, generator=gen))
    return raw_fg, raw_bg, linear


def _losses_and_grads(linear, raw_fg, raw_bg):
    """Loss terms, gradients wrt the embeddings and wrt the linear layer."""
    fg = linear(raw_fg)
    bg = linear(raw_bg)
    fg.retain_grad()
    bg.retain_grad()
    losses = C2AMLoss(alpha=0.5)(fg, bg)
    sum(losses.values()).backward()
    return ({k: v.item() for k, v in losses.items()}, fg.grad, bg.grad,
            linear.weight.grad.clone())


def _worker(rank, world, init_file, out_dir, split):
    dist.init_process_group(
        'gloo', init_method=f'file://{init_file}', rank=rank,
        world_size=world)
    raw_fg, raw_bg, linear = _full_batch()
    lo, hi = split[rank], split[rank + 1]
    losses, g_fg, g_bg, g_w = _losses_and_grads(linear, raw_fg[lo:hi],
                                                raw_bg[lo:hi])
    # What DDP does with parameter gradients: average over ranks.
    dist.all_reduce(g_w)
    g_w /= world
    torch.save(dict(losses=losses, g_fg=g_fg, g_bg=g_bg, g_w=g_w),
               os.path.join(out_dir, f'rank{rank}.pth'))
    dist.destroy_process_group()


@pytest.mark.parametrize('split', [(0, 3, 6), (0, 4, 6)])
def test_two_process_gather_equals_single_process(tmp_path, split):
    world = 2
    mp.spawn(
        _worker,
        args=(world, str(tmp_path / 'init'), str(tmp_path), split),
        nprocs=world,
        join=True)
    raw_fg, raw_bg, linear = _full_batch()
    ref_losses, ref_fg, ref_bg, ref_w = _losses_and_grads(
        linear, raw_fg, raw_bg)
    for rank in range(world):
        res = torch.load(tmp_path / f'rank{rank}.pth', weights_only=False)
        lo, hi = split[rank], split[rank + 1]
        for key, value in ref_losses.items():
            assert res['losses'][key] == pytest.approx(value, rel=1e-5)
        # Embedding gradients are scaled by the world size (see C2AMLoss)...
        assert torch.allclose(res['g_fg'], world * ref_fg[lo:hi], atol=1e-6)
        assert torch.allclose(res['g_bg'], world * ref_bg[lo:hi], atol=1e-6)
        # ...so that DDP's average gives the single-process parameter grads.
        assert torch.allclose(res['g_w'], ref_w, atol=1e-6)


def test_without_gathering_each_rank_sees_its_slice_only():
    # Outside distributed training nothing is gathered or scaled.
    raw_fg, raw_bg, linear = _full_batch()
    a = C2AMLoss(alpha=0.5)(raw_fg[:3], raw_bg[:3])
    b = C2AMLoss(alpha=0.5, gather_across_ranks=True)(raw_fg[:3],
                                                      raw_bg[:3])
    assert all(a[k].item() == b[k].item() for k in a)
