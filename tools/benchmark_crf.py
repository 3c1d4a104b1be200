"""Time the background-cue dense CRF: seconds per image, per backend.

A synthetic image (two noisy flat colour halves under a smooth colour
texture, VOC size 500x375 by default) and a blurred step mask thresholded at
0.3 go through ``background_cue`` with the reference CRF settings (10
iterations, unary confidence 0.7, Gaussian sxy 3 compat 3, bilateral sxy 50
srgb 5 compat 10). Each installed backend is timed; the table also gives
the pixel agreement of its cue with the first backend's and its accuracy
against the true halves (next to that of the thresholded mask). "s / image"
is the mean wall time, "best s" the fastest run and "CPU s" the mean CPU
time of this process: both backends run on one core, so on a busy machine
"CPU s" is the figure least disturbed by other work.

Example:
    python tools/benchmark_crf.py --size 500 375 --repeats 3
"""
import argparse
import time
from typing import Tuple

import cv2
import numpy as np

from mmc2am.functional.crf import has_pydensecrf
from mmc2am.functional.cues import background_cue


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--size',
        type=int,
        nargs=2,
        default=(500, 375),
        metavar=('W', 'H'),
        help='image size (default: 500 375)')
    parser.add_argument('--repeats', type=int, default=3, help='timed runs')
    parser.add_argument('--num-iters', type=int, default=10)
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def synthetic_case(width: int, height: int,
                   seed: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Image, blurred object map and true foreground (left half)."""
    rng = np.random.default_rng(seed)
    truth = np.zeros((height, width), bool)
    truth[:, :width // 2] = True
    image = np.where(truth[..., None], [200, 40, 40], [30, 90, 200])
    texture = rng.integers(0, 256, (height // 16 + 1, width // 16 + 1, 3))
    texture = cv2.resize(
        texture.astype(np.float32), (width, height),
        interpolation=cv2.INTER_CUBIC)
    image = 0.7 * image + 0.3 * texture + rng.normal(0, 6, image.shape)
    image = np.clip(image, 0, 255).astype(np.uint8)
    # The object map spills past the edge: blurred and shifted right.
    obj_map = np.roll(truth.astype(np.float32), width // 40, axis=1)
    obj_map = cv2.GaussianBlur(obj_map, (0, 0), width / 20)
    return image, obj_map / obj_map.max(), truth


def main(argv=None) -> None:
    args = parse_args(argv)
    width, height = args.size
    image, obj_map, truth = synthetic_case(width, height, args.seed)
    backends = (['pydensecrf'] if has_pydensecrf() else []) + ['numpy']
    thresholded = (obj_map > 0.3) == truth
    print(f'Dense CRF on {width}x{height}, {args.num_iters} iterations, '
          f'{args.repeats} timed runs after one warm-up')
    print(f'{"backend":<12}{"s / image":>10}{"best s":>8}{"CPU s":>8}'
          f'{"agreement":>11}{"accuracy":>10}')
    reference = None
    for backend in backends:
        cue = background_cue(
            obj_map, image, backend=backend, num_iters=args.num_iters)
        seconds, cpu = [], time.process_time()
        for _ in range(args.repeats):
            start = time.perf_counter()
            background_cue(
                obj_map, image, backend=backend, num_iters=args.num_iters)
            seconds.append(time.perf_counter() - start)
        cpu = (time.process_time() - cpu) / args.repeats
        reference = cue if reference is None else reference
        print(f'{backend:<12}{np.mean(seconds):>10.3f}{min(seconds):>8.3f}'
              f'{cpu:>8.3f}{(cue == reference).mean():>11.5f}'
              f'{((cue > 0) == truth).mean():>10.4f}')
    if 'pydensecrf' not in backends:
        print('pydensecrf is not installed: `pip install Cython && pip '
              'install --no-build-isolation pydensecrf2` adds it.')
    print(f'threshold 0.3 without CRF: accuracy {thresholded.mean():.4f}')


if __name__ == '__main__':
    main()
