"""Which masks the largest-contour sweep traces, and the boxes of those it
does not: each rule checked against whole-map OpenCV calls."""
import cv2
import numpy as np
import pytest

from mmc2am.functional.boxes import _plan
from mmc2am.functional.mask_tracing import (MaskTracer, Region, first_last,
                                            largest_contour_masks,
                                            pixel_boxes_inside)
from test_boxes import MAKERS, ring_map, tie_map

GRID = np.arange(0, 1, 0.02)


def whole_map_contours(m8: np.ndarray, cut: int) -> list:
    binary = (m8 > cut).astype(np.uint8)
    return list(
        cv2.findContours(binary, cv2.RETR_EXTERNAL,
                         cv2.CHAIN_APPROX_SIMPLE)[0])


def apart_map(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """2-5 bumps of random heights and widths: several components per mask
    over long ranges of cuts, of close or very different areas."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    m = np.zeros((h, w))
    for _ in range(int(rng.integers(2, 6))):
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        m += rng.uniform(0.3, 1) * np.exp(-((yy - cy)**2 + (xx - cx)**2) /
                                          (2 * rng.uniform(2, 8)**2))
    return m


MAPS = dict(MAKERS, rings=ring_map, ties=tie_map, apart=apart_map)


def test_first_last_by_hand():
    profile = np.array([0, 3, 1, 5, 2, 0], np.uint8)
    first, last = first_last(profile, np.array([-1, 0, 1, 2, 4]))
    np.testing.assert_array_equal(first, [0, 1, 1, 1, 3])
    np.testing.assert_array_equal(last, [5, 4, 4, 3, 3])


def test_tracer_equals_whole_map_call():
    rng = np.random.default_rng(3)
    plan = _plan(apart_map(rng, 40, 56), GRID, False)
    tracer = MaskTracer(plan.m8, plan.crops)
    for i, crop in enumerate(plan.crops):
        found, expected = tracer(i), whole_map_contours(plan.m8, crop[0])
        assert len(found) == len(expected)
        for a, b in zip(found, expected):
            np.testing.assert_array_equal(a, b)
        assert tracer(i) is found  # traced once


def test_pixel_boxes_inside_by_hand():
    # Two plateaus whose bounding rectangles overlap: an L (value 9) and a
    # dot (value 5) inside the L's rectangle but outside its polygon.
    m8 = np.zeros((8, 8), np.uint8)
    m8[1:7, 1] = 9
    m8[6, 1:7] = 9
    m8[2, 5] = 5
    m8[3, 2] = 4  # touching the L, in its rectangle, off its polygon
    l_shape = Region(whole_map_contours(m8, 6)[0], alone=False)
    boxes = pixel_boxes_inside(m8, [0, 6, 3], [l_shape, l_shape, l_shape])
    # Inside the L's (degenerate) polygon there are only the L's pixels.
    assert boxes == [(1, 1, 6, 6)] * 3
    dot = whole_map_contours(m8, 4)
    dot = next(c for c in dot if c[0, 0, 0] == 5)
    assert pixel_boxes_inside(m8, [4], [Region(dot, True)]) == [(5, 2, 5, 2)]
    # A square ring (value 9, rows and columns 1-5) holds a pixel of 3 in
    # its hole (inside its polygon); a pixel of 7 lies outside it, and
    # would stretch the box to (8, 7) if it counted.
    m8 = np.zeros((8, 9), np.uint8)
    m8[1:6, 1:6] = 9
    m8[2:5, 2:5] = 0
    m8[3, 3] = 3
    m8[7, 8] = 7
    ring = Region(whole_map_contours(m8, 8)[0], alone=False)
    assert pixel_boxes_inside(m8, [2, 8], [ring, ring]) == [(1, 1, 5, 5)] * 2


def test_alone_regions_skip_the_polygon():
    # A C of 5s (rows and columns 1-5, open to the right) with a 9 in its
    # corner, and an 8 alone in the opening: inside the C's rectangle, off
    # its polygon. Above 7, the C's region holds only the 9; a region marked
    # alone takes its whole rectangle, so it also takes the 8, which is why
    # rule 2 marks a region alone only when no other component reaches into
    # the rectangle.
    m8 = np.zeros((7, 7), np.uint8)
    m8[1:6, 1:6] = 5
    m8[2:5, 3:6] = 0
    m8[1, 1] = 9
    m8[3, 4] = 8
    c_shape = next(c for c in whole_map_contours(m8, 4) if c[0, 0, 0] == 1)
    assert pixel_boxes_inside(m8, [7], [Region(c_shape, False)]) == [(1, 1, 1,
                                                                      1)]
    assert pixel_boxes_inside(m8, [7], [Region(c_shape, True)]) == [(1, 1, 4,
                                                                     3)]


def test_contour_area_grows_with_the_component():
    # Rule 2 rests on it: a component's outer contour area is at most that
    # of the lower mask's component holding it.
    rng = np.random.default_rng(7)
    for kind in ['uniform', 'noisy_blobs', 'rings', 'apart']:
        plan = _plan(MAPS[kind](rng, 48, 48), GRID, False)
        for high, low in zip(plan.crops[:-1], plan.crops[1:]):
            outer = whole_map_contours(plan.m8, low[0])
            for c in whole_map_contours(plan.m8, high[0]):
                point = tuple(float(v) for v in c[0, 0])
                holder = [
                    d for d in outer if cv2.pointPolygonTest(d, point, False)
                    >= 0
                ]
                assert len(holder) == 1
                assert cv2.contourArea(c) <= cv2.contourArea(holder[0])


@pytest.mark.parametrize('kind', ['blobs', 'noisy_blobs', 'apart', 'rings',
                                  'ties', 'uniform'])
def test_each_mask_gets_the_reference_largest_contour(kind):
    rng = np.random.default_rng(5)
    settled = traced = 0
    for h, w in [(48, 48), (40, 64), (64, 40)] * 3:
        plan = _plan(MAPS[kind](rng, h, w), GRID, True)
        tracer = MaskTracer(plan.m8, plan.crops)
        how = largest_contour_masks(tracer, plan.segment_keys,
                                    plan.mask_rects)
        inside = [i for i, way in enumerate(how) if isinstance(way, Region)]
        boxes = dict(
            zip(
                inside,
                pixel_boxes_inside(plan.m8, [plan.crops[i][0] for i in inside],
                                   [how[i] for i in inside])))
        for i, way in enumerate(how):
            expected = whole_map_contours(plan.m8, plan.crops[i][0])
            best = max(expected, key=cv2.contourArea)
            x, y, bw, bh = cv2.boundingRect(best)
            if way is None:  # one outermost component, or rule 3
                assert (x, y, x + bw - 1, y + bh - 1) == plan.mask_rects[i]
            elif isinstance(way, Region):
                settled += 1
                assert boxes[i] == (x, y, x + bw - 1, y + bh - 1)
            else:
                traced += 1
                assert len(way) == len(expected)
                for a, b in zip(way, expected):
                    np.testing.assert_array_equal(a, b)
    if kind == 'apart':
        assert settled > traced > 0  # rule 2 does its job


def test_rule_3_settles_lower_masks_with_the_same_rectangle():
    # A 20 x 20 map falling from 1.0 (column 0) to 0.6 (column 19), with a
    # notch of zeros open to the right (rows 8-11, columns 10-19) and an
    # island of 0.5 in it (rows 9-10, columns 15-16).
    m = np.tile(0.6 + 0.4 * (19 - np.arange(20)) / 19, (20, 1))
    m[8:12, 10:] = 0
    m[9:11, 15:17] = 0.5
    grid = np.arange(0, 1, 0.01)
    plan = _plan(m, grid, True)
    tracer = MaskTracer(plan.m8, plan.crops)
    how = largest_contour_masks(tracer, plan.segment_keys, plan.mask_rects)
    # Above the island (cut >= 127) every mask is one component: rule 1
    # from the top mask. The island is born at cut 124 (tau 0.49): that
    # mask is traced, its C-shaped component (contour area 312 of the 19 x
    # 19 = 361 of its rectangle, the whole map) beats half, and every mask
    # below has that rectangle: none is traced.
    cuts = [crop[0] for crop in plan.crops]
    assert sorted(tracer._contours) == [0, cuts.index(124)]
    assert sorted(tracer.areas(cuts.index(124))) == [1.0, 312.0]
    assert all(how[i] is None for i in range(cuts.index(124) + 1, len(how)))
    # And the box of every mask is indeed its pixels' rectangle.
    for i, crop in enumerate(plan.crops):
        expected = whole_map_contours(plan.m8, crop[0])
        x, y, w, h = cv2.boundingRect(max(expected, key=cv2.contourArea))
        assert plan.mask_rects[i] == (x, y, x + w - 1, y + h - 1)
