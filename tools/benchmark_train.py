"""Time C²AM training steps: images per second, peak memory, and the share
of the step spent in the head plus the loss.

Example:
    python tools/benchmark_train.py configs/_base_/models/c2am_r50.py \
        --batch-size 32 --size 224 --steps 5
"""
import argparse
import resource
import time
from typing import Callable, Dict

import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmc2am  # noqa: F401


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config with a C2AM model')
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--size', type=int, default=224, help='input side')
    parser.add_argument('--steps', type=int, default=5, help='timed steps')
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument(
        '--amp', action='store_true', help='bf16 autocast (AmpOptimWrapper)')
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    return parser.parse_args(argv)


def timed(fn: Callable[[], None], steps: int, warmup: int,
          device: torch.device) -> float:
    """Mean seconds per call of ``fn`` after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
    return (time.perf_counter() - start) / steps


def peak_memory_mib(device: torch.device) -> float:
    """Peak GPU memory allocated, or the process's peak RSS on the CPU."""
    if device.type == 'cuda':
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def benchmark(cfg: Config, batch_size: int, size: int, steps: int,
              warmup: int, amp: bool, device: str) -> Dict[str, float]:
    """Run the measurements and return them by name."""
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    device = torch.device(device)
    model_cfg = cfg.model.copy()
    model_cfg.backbone.init_cfg = None  # no download: random weights
    model = MODELS.build(model_cfg).to(device).train()
    optim_cfg = cfg.get(
        'optim_wrapper',
        dict(optimizer=dict(type='SGD', lr=1e-4, momentum=0.9)))
    optim_cfg = optim_cfg.copy()
    if amp:
        optim_cfg.update(type='AmpOptimWrapper', dtype='bfloat16')
    optim_wrapper = build_optim_wrapper(model, optim_cfg)
    gen = torch.Generator().manual_seed(0)
    data = dict(
        inputs=[
            torch.randint(0, 256, (3, size, size), generator=gen,
                          dtype=torch.uint8) for _ in range(batch_size)
        ],
        data_samples=[SegDataSample() for _ in range(batch_size)])

    def full_step() -> None:
        model.train_step(data, optim_wrapper)

    with torch.no_grad():
        inputs = model.data_preprocessor(data, True)['inputs']
        feats = model.extract_feat(inputs)

    def head_and_loss() -> None:
        z = feats.detach().requires_grad_(True)
        with optim_wrapper.optim_context(model):
            out = model.head(z)
            losses = model.loss_module(out['fg'], out['bg'])
        sum(losses.values()).backward()
        model.zero_grad(set_to_none=True)

    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
    t_step = timed(full_step, steps, warmup, device)
    peak = peak_memory_mib(device)
    t_head = timed(head_and_loss, steps, warmup, device)
    return dict(
        step_s=t_step,
        images_per_s=batch_size / t_step,
        peak_mib=peak,
        head_loss_s=t_head,
        head_loss_share=t_head / t_step)


def main(argv=None) -> None:
    args = parse_args(argv)
    res = benchmark(
        Config.fromfile(args.config), args.batch_size, args.size, args.steps,
        args.warmup, args.amp, args.device)
    memory = 'peak GPU MiB' if args.device.startswith('cuda') else \
        'peak RSS MiB'
    rows = [('config', args.config), ('device', args.device),
            ('batch x size', f'{args.batch_size} x {args.size}^2'),
            ('autocast', 'bf16' if args.amp else 'off'),
            ('step time (s)', f'{res["step_s"]:.3f}'),
            ('images / s', f'{res["images_per_s"]:.2f}'),
            (memory, f'{res["peak_mib"]:.0f}'),
            ('head + loss time (s)', f'{res["head_loss_s"]:.4f}'),
            ('head + loss share', f'{100 * res["head_loss_share"]:.2f} %')]
    width = max(len(k) for k, _ in rows)
    print('-' * (width + 40))
    for key, value in rows:
        print(f'{key:<{width}} | {value}')
    print('-' * (width + 40))


if __name__ == '__main__':
    main()
