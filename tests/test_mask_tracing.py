"""Nested masks traced in the rectangles of lower masks: the same contours,
in the same order, as one OpenCV call over the whole map."""
import cv2
import numpy as np
import pytest

from mmc2am.functional.boxes import _plan
from mmc2am.functional.mask_tracing import (NestedMaskTracer,
                                            largest_contour_masks,
                                            merge_rects)
from test_boxes import MAKERS, ring_map, tie_map

GRID = np.arange(0, 1, 0.02)


def whole_map_contours(m8: np.ndarray, cut: int, mode: int) -> list:
    binary = (m8 > cut).astype(np.uint8)
    return list(cv2.findContours(binary, mode, cv2.CHAIN_APPROX_SIMPLE)[0])


def assert_same_contours(found: list, expected: list) -> None:
    assert len(found) == len(expected)
    for a, b in zip(found, expected):
        np.testing.assert_array_equal(a, b)


def two_apart_map(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Bumps far apart (several component rectangles per mask)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    m = np.zeros((h, w))
    for _ in range(int(rng.integers(2, 6))):
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        m += rng.uniform(0.3, 1) * np.exp(-((yy - cy)**2 + (xx - cx)**2) /
                                          (2 * rng.uniform(2, 6)**2))
    return m


MAPS = dict(
    MAKERS, rings=ring_map, ties=tie_map, apart=two_apart_map)


@pytest.mark.parametrize('kind', sorted(MAPS))
@pytest.mark.parametrize('tree', [False, True])
def test_bottom_up_traces_equal_whole_map_calls(kind, tree):
    rng = np.random.default_rng(3)
    mode = cv2.RETR_TREE if tree else cv2.RETR_EXTERNAL
    for h, w in [(40, 40), (31, 57), (64, 48)]:
        plan = _plan(MAPS[kind](rng, h, w), GRID, False)
        tracer = NestedMaskTracer(plan.m8, plan.crops, tree)
        for i in reversed(range(len(plan.crops))):
            assert_same_contours(
                tracer(i), whole_map_contours(plan.m8, plan.crops[i][0],
                                              mode))


def test_several_rectangles_are_used_and_order_kept():
    # Four bumps far apart: the mask at the highest cut is traced in the
    # four rectangles of the mask below, in four calls, and its contours
    # come in the whole map's order.
    m = np.zeros((60, 60))
    for (y, x), peak in zip([(10, 10), (10, 50), (50, 10), (50, 50)],
                            [1.0, 0.9, 0.9, 0.8]):
        m[y - 3:y + 4, x - 3:x + 4] = peak * 0.5
        m[y - 1:y + 2, x - 1:x + 2] = peak
    plan = _plan(m, [0.3, 0.6], False)
    tracer = NestedMaskTracer(plan.m8, plan.crops, tree=False)
    calls = []
    find_contours = cv2.findContours

    def counting(binary, *args, **kwargs):
        calls.append(binary.shape)
        return find_contours(binary, *args, **kwargs)

    assert len(tracer(1)) == 4
    cv2.findContours = counting
    try:
        high = tracer(0)
    finally:
        cv2.findContours = find_contours
    assert len(calls) == 4
    # Windows: a 7x7 square of the lower mask grown by one pixel on each
    # side (9x9), clipped to the high mask's own window (the 3x3 peaks
    # grown by one, rows and columns 8-52): 7x7.
    assert calls == [(7, 7)] * 4
    assert_same_contours(
        high, whole_map_contours(plan.m8, plan.crops[0][0],
                                 cv2.RETR_EXTERNAL))


def test_merge_rects_by_hand():
    # Columns 0-2 and 3-5 touch: merged. Columns 0-2 and 4-6 have column 3
    # between them, which each window (grown by one) may hold but which is
    # background: kept apart.
    assert merge_rects([[0, 0, 2, 2], [3, 0, 5, 2]]) == [[0, 0, 5, 2]]
    assert merge_rects([[0, 0, 2, 2], [4, 0, 6, 2]]) == [[0, 0, 2, 2],
                                                        [4, 0, 6, 2]]
    # Diagonal neighbours count too; merging can chain.
    assert merge_rects([[0, 0, 1, 1], [2, 2, 3, 3], [4, 4, 5, 5]]) == [[
        0, 0, 5, 5
    ]]
    # A window (rectangle grown by one) holds none of the other's pixels.
    assert merge_rects([[0, 0, 1, 1], [3, 3, 4, 4]]) == [[0, 0, 1, 1],
                                                        [3, 3, 4, 4]]
    assert merge_rects([]) == []


@pytest.mark.parametrize('kind', ['blobs', 'noisy_blobs', 'apart', 'rings'])
def test_largest_contour_masks_trace_exactly_the_multi_component_masks(kind):
    rng = np.random.default_rng(5)
    for h, w in [(48, 48), (40, 64)]:
        plan = _plan(MAPS[kind](rng, h, w), GRID, True)
        tracer = NestedMaskTracer(plan.m8, plan.crops, tree=False)
        found = largest_contour_masks(tracer, plan.segment_keys)
        for i, contours in enumerate(found):
            expected = whole_map_contours(plan.m8, plan.crops[i][0],
                                          cv2.RETR_EXTERNAL)
            if contours is None:
                assert len(expected) == 1
            else:
                assert len(expected) > 1
                assert_same_contours(contours, expected)
