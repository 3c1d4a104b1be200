"""Time box extraction: maps per second for a whole threshold sweep,
:func:`maps_to_boxes` against the per-threshold reference loop, on one
thread and on several (each against the other on as many threads).

Both run on the same maps, in largest- and multi-contour mode: synthetic
ones (smooth Gaussian blobs on a smooth background, with and without pixel
noise) and, when asked, a trained model's maps: computed here from a C²AM
config and checkpoint (``--from-checkpoint``: the maps of the config's test
scenes, bilinearly upsampled to ``--size``, as logits, their sigmoid and
the fused WSSS map, see :func:`model_maps`; ``--save-maps`` keeps the
logits) or saved as ``np.ndarray[N, H, W]`` in a ``.npy`` file
(``--maps``). Every
output of ``maps_to_boxes`` is checked to equal the reference's before it is
timed; all rows of the table come from one run. Ours traces outer contours
with the compiled tracer where it is built; ``--opencv-tracer`` times it
with ``cv2.findContours`` instead.

Example:
    python tools/benchmark_boxes.py --num-maps 32 --size 448 --threads 2 \
        --from-checkpoint work_dirs/demo/c2am/c2am_scenes.py \
        work_dirs/demo/c2am/iter_300.pth
"""
import argparse
import os
import os.path as osp
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Dict, List, Sequence, Tuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmc2am.apis.dataset_items import build_load_only_dataset
from mmc2am.apis.inference import init_c2am
from mmc2am.apis.multiscale import multiscale_map
from mmc2am.functional import mask_tracing
from mmc2am.functional.boxes import (_scaled_uint8, maps_to_box_sets,
                                     maps_to_boxes, reference_boxes)
from mmc2am.functional.mask_tracing import MaskTracer
from mmc2am.utils.io import atomic_output


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--num-maps', type=int, default=32)
    parser.add_argument(
        '--maps', help='.npy file of maps [N, H, W] to time as well')
    parser.add_argument(
        '--from-checkpoint',
        nargs=2,
        metavar=('CONFIG', 'CHECKPOINT'),
        help='also time the maps of a trained C2AM on the config\'s test '
        'scenes (seed --scene-seed), upsampled to --size: logits, '
        'probabilities and the fused WSSS map')
    parser.add_argument(
        '--scene-seed',
        type=int,
        default=2,
        help='seed of the test scenes of --from-checkpoint (default: 2, '
        'the test split)')
    parser.add_argument(
        '--save-maps',
        help='write the --from-checkpoint logit maps to this .npy file')
    parser.add_argument('--size', type=int, default=448, help='map side')
    parser.add_argument(
        '--step', type=float, default=0.01, help='threshold grid step')
    parser.add_argument(
        '--threads',
        type=int,
        default=os.cpu_count() or 1,
        help='threads of the threaded columns, the reference loop\'s and '
        'ours (default: all cores)')
    parser.add_argument(
        '--repeat', type=int, default=3, help='best of this many runs')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--opencv-tracer',
        action='store_true',
        help='trace with cv2.findContours even where the compiled '
        'outer-contour tracer is built (to see what each part gives)')
    return parser.parse_args(argv)


def blob_maps(num: int, size: int, pixel_noise: float,
              rng: np.random.Generator) -> np.ndarray:
    """Smooth maps: 1-4 Gaussian blobs and low-frequency noise drawn on a
    grid 16 times coarser (a stride-16 map), bilinearly upsampled, plus
    per-pixel Gaussian noise of std ``pixel_noise``.

    Returns:
        np.ndarray[num, size, size]: float32 maps.
    """
    low = max(size // 16, 2)
    yy, xx = np.mgrid[0:low, 0:low].astype(np.float32)
    maps = []
    for _ in range(num):
        grid = rng.normal(0, 0.08, (low, low)).astype(np.float32)
        for _ in range(rng.integers(1, 5)):
            cy, cx = rng.uniform(0, low, 2)
            sigma = rng.uniform(0.06, 0.2) * low
            dist2 = (yy - cy)**2 + (xx - cx)**2
            grid += rng.uniform(0.4, 1.0) * np.exp(-dist2 / (2 * sigma**2))
        m = cv2.resize(grid, (size, size), interpolation=cv2.INTER_LINEAR)
        m += rng.normal(0, pixel_noise, m.shape).astype(np.float32)
        maps.append(m)
    return np.stack(maps)


def best_times(fns: Sequence[Callable[[], object]],
               repeat: int) -> List[float]:
    """Shortest wall time of each function over ``repeat`` rounds; a round
    calls every function once, so that all meet the same machine load."""
    times = [[] for _ in fns]
    for _ in range(repeat):
        for fn, spent in zip(fns, times):
            start = time.perf_counter()
            fn()
            spent.append(time.perf_counter() - start)
    return [min(spent) for spent in times]


def check_equal(maps: np.ndarray, thresholds: np.ndarray) -> None:
    """Assert that ``maps_to_boxes`` and ``maps_to_box_sets`` return the
    reference's boxes."""
    largest, every = maps_to_box_sets(maps, thresholds)
    for i, m in enumerate(maps):
        for ours, multi in ((maps_to_boxes(maps[i:i + 1], thresholds)[0],
                             False), (largest[i], False),
                            (maps_to_boxes(maps[i:i + 1], thresholds,
                                           True)[0], True), (every[i], True)):
            ref = reference_boxes(m, thresholds, multi)
            if multi:
                same = len(ours) == len(ref) and all(
                    np.array_equal(a, b) for a, b in zip(ours, ref))
            else:
                same = np.array_equal(ours, ref)
            assert same, f'boxes differ from the reference on map {i}'


# The kinds of trained maps timed, as model_maps returns them.
MAP_KINDS = {
    'logits': 'logits (WSOL default)',
    'probabilities': 'sigmoid (reference WSOL)',
    'fused': 'fused ReLU (WSSS)',
}


@torch.no_grad()
def model_maps(config: str, checkpoint: str, num: int, size: int,
               scene_seed: int) -> Dict[str, np.ndarray]:
    """A trained C²AM's maps of the config's test scenes, at one scale and
    without flip, bilinearly upsampled, in the three forms box extraction
    meets.

    Args:
        config (str): The C²AM config the checkpoint was trained with.
        checkpoint (str): The checkpoint.
        num (int): Number of scenes (the first ones of the split).
        size (int): Side of the returned maps.
        scene_seed (int): Seed of the scenes (``dataset.seed``).

    Returns:
        dict[str, np.ndarray[num, size, size]]: float32 maps, keyed as
        :data:`MAP_KINDS`: ``'logits'`` (what ``C2AM.predict`` gives the
        WSOL metric and tools by default, ``test_cfg.map_space='logit'``),
        ``'probabilities'`` (their sigmoid, ``map_space='probability'``,
        the reference's WSOL maps) and ``'fused'`` (:func:`multiscale_map`
        at scale 1, the WSSS path's ReLU map).
    """
    if not osp.isfile(config):
        raise SystemExit(f'--from-checkpoint: config {config} does not '
                         'exist.')
    cfg = Config.fromfile(config)
    scenes = (cfg.get('test_dataloader') or {}).get('dataset') or {}
    if scenes.get('type') != 'SyntheticScenesDataset':
        raise SystemExit(
            f'--from-checkpoint: {config} has no SyntheticScenesDataset as '
            'test_dataloader.dataset (got '
            f'{scenes.get("type")!r}); use a config trained on synthetic '
            'scenes, or save the maps of other images and pass --maps.')
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = init_c2am(cfg, checkpoint)
    dataset = build_load_only_dataset(
        dict(scenes.to_dict(), seed=scene_seed, num_scenes=num))
    maps: Dict[str, List[np.ndarray]] = {kind: [] for kind in MAP_KINDS}

    def upsampled(obj_map: np.ndarray) -> np.ndarray:
        return cv2.resize(
            obj_map, (size, size), interpolation=cv2.INTER_LINEAR)

    for index in range(len(dataset)):
        img = dataset.get_data_info(index)['img']
        inputs = model.data_preprocessor(
            dict(inputs=[torch.from_numpy(img).permute(2, 0, 1)]))['inputs']
        logits = F.interpolate(
            model(inputs, mode='tensor'),
            size=img.shape[:2],
            mode='bilinear',
            align_corners=False)[0, 0]
        maps['logits'].append(upsampled(logits.numpy()))
        maps['probabilities'].append(upsampled(logits.sigmoid().numpy()))
        maps['fused'].append(
            upsampled(multiscale_map(model, img, scales=(1.0, ),
                                     flip=False)))
    return {kind: np.stack(found) for kind, found in maps.items()}


def load_maps(path: str, num: int) -> np.ndarray:
    """The first ``num`` maps of a ``.npy`` file of maps [N, H, W]."""
    if not osp.isfile(path):
        raise SystemExit(f'--maps {path} does not exist.')
    maps = np.load(path)[:num]
    if maps.ndim != 3 or maps.size == 0:
        raise SystemExit(f'--maps {path}: expected maps [N, H, W], got an '
                         f'array of shape {maps.shape}.')
    return maps


def map_families(args: argparse.Namespace
                 ) -> List[Tuple[str, np.ndarray]]:
    """The named map batches to time: the synthetic ones, then the
    model's (``--from-checkpoint``), then the saved ones (``--maps``)."""
    if args.save_maps and not args.from_checkpoint:
        raise SystemExit('--save-maps saves the maps of --from-checkpoint; '
                         'pass --from-checkpoint CONFIG CHECKPOINT too.')
    rng = np.random.default_rng(args.seed)
    families = [(f'blobs + pixel noise {noise:g}',
                 blob_maps(args.num_maps, args.size, noise, rng))
                for noise in (0.0, 0.02)]
    if args.from_checkpoint:
        maps = model_maps(*args.from_checkpoint, args.num_maps, args.size,
                          args.scene_seed)
        if args.save_maps:
            with atomic_output(args.save_maps) as tmp:
                with open(tmp, 'wb') as f:
                    np.save(f, maps['logits'])
        name = osp.basename(args.from_checkpoint[1])
        families += [(f'{name}: {MAP_KINDS[kind]}', maps[kind])
                     for kind in MAP_KINDS]
    if args.maps:
        maps = load_maps(args.maps, args.num_maps)
        shape = 'x'.join(map(str, maps.shape[1:]))
        families.append((f'{osp.basename(args.maps)} ({shape})', maps))
    return families


def shared_among_threads(fn: Callable[[np.ndarray], object],
                         maps: np.ndarray, threads: int) -> List[object]:
    """``fn`` of every map, the maps shared among ``threads`` threads
    (how a user would parallelise the reference loop)."""
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(fn, maps))


def speed_cells(times: np.ndarray, mode: int, num_maps: int) -> List[str]:
    """Table cells of one contour mode: maps per second of the reference
    loop and of ours, on one thread and on several, each of ours with its
    ratio to the reference on as many threads.

    Args:
        times (np.ndarray[2, 5]): Seconds per thread count (one, several):
            the largest- and multi-contour reference loops, then ours in
            the modes ``largest``, ``all`` and ``both``.
        mode (int): 0, 1 or 2: ``largest``, ``all`` or ``both`` (whose
            reference is the two loops together).
    """
    cells = []
    for spent in times:
        ref = spent[:2].sum() if mode == 2 else spent[mode]
        ours = spent[2 + mode]
        cells += [
            f'{num_maps / ref:.1f}',
            f'{num_maps / ours:.1f} (x{ref / ours:.2f})'
        ]
    return cells


def traces_per_map(fn: Callable[[], object], num_maps: int) -> float:
    """Mean number of masks traced per map while ``fn`` runs: calls of
    ``cv2.findContours`` and of the compiled outer-contour tracer (the
    reference loop traces one mask per threshold)."""
    find_contours, compiled, calls = (cv2.findContours,
                                      mask_tracing.trace_outer, [0])

    def counted(trace: Callable) -> Callable:
        def call(*args, **kwargs):
            calls[0] += 1
            return trace(*args, **kwargs)

        return call

    cv2.findContours = counted(find_contours)
    if compiled is not None:
        mask_tracing.trace_outer = counted(compiled)
    try:
        fn()
    finally:
        cv2.findContours = find_contours
        mask_tracing.trace_outer = compiled
    return calls[0] / max(num_maps, 1)


# The cuts of whole_mask_trace_times.
CUTS = range(0, 250, 10)


def whole_mask_trace_times(maps: Sequence[np.ndarray],
                           repeat: int) -> List[float]:
    """Seconds per trace of a whole map's mask through :class:`MaskTracer`
    (cuts 0, 10, ..., 240 of each map scaled to uint8): with the compiled
    tracer, then with OpenCV; best of ``repeat``."""
    m8s = [_scaled_uint8(m)[1] for m in maps]  # as the sweep scales them

    def trace_all(compiled: bool) -> Callable[[], object]:
        def run() -> None:
            for m8 in m8s:
                height, width = m8.shape
                crops = [(cut, 0, height, 0, width) for cut in CUTS]
                tracer = MaskTracer(m8, crops, compiled=compiled)
                for i in range(len(crops)):
                    tracer(i)

        return run

    times = best_times([trace_all(True), trace_all(False)], repeat)
    return [t / (len(m8s) * len(CUTS)) for t in times]


def print_table(args: argparse.Namespace) -> None:
    """Time every map family and print the table."""
    tracer = ('the compiled tracer' if mask_tracing.trace_outer is not None
              else 'cv2.findContours')
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    thresholds = np.arange(0, 1, args.step)
    families = map_families(args)
    header = [
        'maps', 'contours', 'reference loop', 'ours, 1 thread',
        f'reference loop, {args.threads} threads',
        f'ours, {args.threads} threads', 'traced / map'
    ]
    rows: List[List[str]] = []
    for name, maps in families:
        check_equal(maps, thresholds)

        def reference(multi: bool, threads: int) -> Callable[[], object]:
            def loop(m: np.ndarray) -> object:
                return reference_boxes(m, thresholds, multi)

            if threads == 1:
                return lambda: [loop(m) for m in maps]
            return lambda: shared_among_threads(loop, maps, threads)

        def ours(mode: str, threads: int) -> Callable[[], object]:
            if mode == 'both':  # what WSOLMetric takes: MaxBoxAcc and V2
                return lambda: maps_to_box_sets(maps, thresholds, threads)
            return lambda: maps_to_boxes(maps, thresholds, mode == 'all',
                                         threads)

        modes = ('largest', 'all', 'both')
        traced = [traces_per_map(ours(mode, 1), len(maps)) for mode in modes]
        # Per thread count: the two reference loops, then ours per mode.
        fns = [
            fn for t in (1, args.threads)
            for fn in [reference(False, t), reference(True, t)] +
            [ours(mode, t) for mode in modes]
        ]
        times = np.array(best_times(fns, args.repeat)).reshape(2, 5)
        rows += [[name, 'largest + all' if mode == 'both' else mode] +
                 speed_cells(times, i, len(maps)) + [f'{traced[i]:.1f}']
                 for i, mode in enumerate(modes)]
    shape = 'x'.join(map(str, families[0][1].shape[1:]))
    print(f'maps per second, {len(thresholds)} thresholds (step '
          f'{args.step}), {len(families[0][1])} maps of {shape}, best of '
          f'{args.repeat}; outputs checked equal to the reference. '
          '"largest + all": both box sets, as WSOLMetric takes them in one '
          'pass (maps_to_box_sets), against the two reference loops. '
          'Each ratio is against the reference loop on as many threads '
          '(the maps shared among them). '
          '"traced / map": masks ours traces per map (the reference: one '
          'per threshold and contour mode); ours traces outer contours '
          f'with {tracer}.')
    print_rows([header] + rows)
    if mask_tracing.trace_outer is None:
        return
    print('\nmicroseconds per trace of a whole map\'s mask through '
          'MaskTracer (cuts 0, 10, ..., 240 of each map scaled to uint8), '
          f'best of {args.repeat}:')
    rows = []
    for name, maps in families:
        compiled, opencv = whole_mask_trace_times(maps, args.repeat)
        rows.append([
            name, f'{compiled * 1e6:.1f} (x{opencv / compiled:.2f})',
            f'{opencv * 1e6:.1f}'
        ])
    print_rows([['maps', 'compiled tracer', 'OpenCV']] + rows)


def print_rows(rows: List[List[str]]) -> None:
    """Print a header row, a rule and the other rows as aligned columns."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    rule = ['-' * w for w in widths]
    for row in rows[:1] + [rule] + rows[1:]:
        print(' | '.join(c.ljust(w) for c, w in zip(row, widths)))



def main(argv=None) -> None:
    args = parse_args(argv)
    compiled = mask_tracing.trace_outer
    if args.opencv_tracer:
        mask_tracing.trace_outer = None
    try:
        print_table(args)
    finally:
        mask_tracing.trace_outer = compiled


if __name__ == '__main__':
    main()
