"""The compiled outer-contour tracer against hand-made masks and, point for
point, against ``cv2.findContours(RETR_EXTERNAL, CHAIN_APPROX_SIMPLE)``."""
import cv2
import numpy as np
import pytest

from mmc2am.functional import mask_tracing
from mmc2am.functional.boxes import _plan
from mmc2am.functional.mask_tracing import MaskTracer

trace_outer = mask_tracing.trace_outer


def test_compiled_tracer_is_built():
    # setup.py builds it wherever a C compiler is found (our set-up always
    # has one); without it the sweep falls back to OpenCV, tested below.
    assert trace_outer is not None, (
        'mmc2am.functional._outer_contours is not built: run '
        '`pip install --no-build-isolation --no-deps -e .` with a C '
        'compiler')


def traced(m8: np.ndarray, cut: int, window=None) -> list:
    """(points int32[P, 2] as lists, area, rect) per contour."""
    top, bottom, left, right = window or (0, m8.shape[0], 0, m8.shape[1])
    work = bytearray((bottom - top + 2) * (right - left + 2))
    xy, found = trace_outer(m8, top, bottom, left, right, cut, work)
    points = np.frombuffer(xy, dtype=np.int32).reshape(-1, 2)
    return [(points[f:f + n].tolist(), area, rect)
            for f, n, area, rect in found]


def opencv(m8: np.ndarray, cut: int) -> list:
    contours = cv2.findContours((m8 > cut).astype(np.uint8),
                                cv2.RETR_EXTERNAL,
                                cv2.CHAIN_APPROX_SIMPLE)[0]
    return [(c.reshape(-1, 2).tolist(), cv2.contourArea(c),
             cv2.boundingRect(c)) for c in contours]


def test_hand_made_mask():
    # A 3x3 square (9), a lone pixel (5), and a ring (7) around a hole
    # that holds an island (9).
    m8 = np.zeros((9, 12), np.uint8)
    m8[1:4, 1:4] = 9
    m8[2, 6] = 5
    m8[4:9, 7:12] = 7
    m8[5:8, 8:11] = 0
    m8[6, 9] = 9
    square = ([[1, 1], [1, 3], [3, 3], [3, 1]], 4.0, (1, 1, 3, 3))
    dot = ([[6, 2]], 0.0, (6, 2, 1, 1))
    ring = ([[7, 4], [7, 8], [11, 8], [11, 4]], 16.0, (7, 4, 5, 5))
    # OpenCV's order: the border found last in raster order comes first;
    # the island inside the ring's hole is not an outermost component.
    assert traced(m8, 0) == [ring, dot, square]
    assert traced(m8, 5) == [ring, square]
    island = ([[9, 6]], 0.0, (9, 6, 1, 1))
    assert traced(m8, 7) == [island, square]
    assert traced(m8, 9) == []
    # A window: the same contours in map pixels.
    assert traced(m8, 5, (0, 5, 0, 5)) == [square]
    for cut in (0, 5, 7, 9):
        assert traced(m8, cut) == opencv(m8, cut)


def random_mask_map(rng: np.random.Generator, kind: int) -> np.ndarray:
    h, w = (int(v) for v in rng.integers(1, 48, 2))
    if kind == 0:  # pixel noise: many specks, holes and diagonal joins
        return rng.integers(0, 256, (h, w), dtype=np.uint8)
    if kind == 1:  # smooth blobs
        small = rng.random((max(h // 5, 1), max(w // 5, 1)))
        return (cv2.resize(small.astype(np.float32), (w, h)) *
                255).astype(np.uint8)
    if kind == 2:  # binary noise of random density
        return ((rng.random((h, w)) < rng.uniform(0.2, 0.8)) *
                200).astype(np.uint8)
    m8 = np.zeros((h, w), np.uint8)  # discs and rings, nested
    for _ in range(int(rng.integers(1, 6))):
        centre = tuple(int(v) for v in rng.integers(0, 48, 2))
        cv2.circle(m8, centre, int(rng.integers(1, 14)),
                   int(rng.integers(1, 255)), int(rng.choice([-1, 1, 2])))
    return m8


def test_equals_opencv_point_for_point_on_random_masks():
    rng = np.random.default_rng(0)
    for k in range(1600):
        m8 = random_mask_map(rng, k % 4)
        cut = int(rng.integers(0, 255))
        assert traced(m8, cut) == opencv(m8, cut), (k, cut)


def test_window_equals_whole_map():
    # A window that holds the mask with a pixel of background around it
    # (or the map's edge) gives the whole map's contours.
    rng = np.random.default_rng(1)
    for k in range(300):
        m8 = random_mask_map(rng, 1 + k % 3)
        cut = int(rng.integers(0, 200))
        ys, xs = np.nonzero(m8 > cut)
        if len(ys) == 0:
            continue
        window = (max(ys.min() - 1, 0), min(ys.max() + 2, m8.shape[0]),
                  max(xs.min() - 1, 0), min(xs.max() + 2, m8.shape[1]))
        assert traced(m8, cut, window) == opencv(m8, cut)


def test_mask_tracer_gives_the_same_with_either_tracer():
    rng = np.random.default_rng(2)
    yy, xx = np.mgrid[0:60, 0:70].astype(np.float64)
    m = sum(
        rng.uniform(0.3, 1) * np.exp(-((yy - rng.uniform(0, 60))**2 +
                                       (xx - rng.uniform(0, 70))**2) /
                                     (2 * rng.uniform(3, 9)**2))
        for _ in range(4)) + rng.normal(0, 0.01, yy.shape)
    plan = _plan(m, np.arange(-0.05, 1, 0.01), False)
    assert plan.crops[-1][0] == -1  # a negative cut: OpenCV traces it
    compiled, fallback = (MaskTracer(plan.m8, plan.crops, compiled=flag)
                          for flag in (True, False))
    assert compiled.compiled and not fallback.compiled
    for i in range(len(plan.crops)):
        a, b = compiled(i), fallback(i)
        assert len(a) == len(b)
        for ca, cb in zip(a, b):
            np.testing.assert_array_equal(ca, cb)
        assert compiled.areas(i) == fallback.areas(i)
        assert [compiled.rect(i, k) for k in range(len(a))] == \
            [fallback.rect(i, k) for k in range(len(b))]
        assert compiled.largest(i) == fallback.largest(i)


def test_bad_arguments_are_clear_errors():
    m8 = np.zeros((4, 5), np.uint8)
    work = bytearray(64)
    with pytest.raises(ValueError, match='2-D uint8'):
        trace_outer(m8.astype(np.int16), 0, 4, 0, 5, 0, work)
    with pytest.raises(ValueError, match='2-D uint8'):
        trace_outer(m8.reshape(-1), 0, 4, 0, 5, 0, work)
    with pytest.raises(ValueError, match='not C-contiguous'):
        trace_outer(m8[:, ::2], 0, 4, 0, 3, 0, work)
    with pytest.raises(ValueError, match=r'outside the 4 x 5 map'):
        trace_outer(m8, 0, 5, 0, 5, 0, work)
    with pytest.raises(ValueError, match='is empty'):
        trace_outer(m8, 2, 2, 0, 5, 0, work)
    with pytest.raises(ValueError, match='cut 256 is outside'):
        trace_outer(m8, 0, 4, 0, 5, 256, work)
    with pytest.raises(ValueError, match='holds 10 bytes, the window needs'):
        trace_outer(m8, 0, 4, 0, 5, 0, bytearray(10))
    with pytest.raises(BufferError, match='not writable'):
        trace_outer(m8, 0, 4, 0, 5, 0, bytes(64))
