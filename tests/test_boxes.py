"""Boxes from maps: the fast sweep equals the reference procedure exactly."""
import cv2
import numpy as np
import pytest

from mmc2am.functional import boxes as boxes_module
from mmc2am.functional.boxes import (_peaks_below, _same_masks, box_iou,
                                     maps_to_box_sets, maps_to_boxes,
                                     normalize_map, reference_boxes)

GRID = np.arange(0, 1, 0.01)


def blob_map(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Gaussian blobs on a coarse grid, bilinearly upsampled (model-like)."""
    low_h, low_w = max(h // 8, 2), max(w // 8, 2)
    yy, xx = np.mgrid[0:low_h, 0:low_w].astype(np.float32)
    grid = rng.normal(0, 0.05, (low_h, low_w)).astype(np.float32)
    for _ in range(3):
        cy, cx = rng.uniform(0, low_h), rng.uniform(0, low_w)
        s = rng.uniform(0.1, 0.3) * max(low_h, low_w)
        grid += np.exp(-((yy - cy)**2 + (xx - cx)**2) / (2 * s * s))
    return cv2.resize(grid, (w, h), interpolation=cv2.INTER_LINEAR)


def border_map(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Rectangles of random heights, several glued to the image borders."""
    m = rng.uniform(0, 0.1, (h, w)).astype(np.float32)
    m[:max(h // 3, 1), :] += 0.5
    m[:, -max(w // 4, 1):] += 0.7
    m[-1, :max(w // 2, 1)] = 1.0
    m[:, 0] += 0.3
    return m


MAKERS = {
    'uniform':
    lambda rng, h, w: rng.random((h, w)),
    'binary':
    lambda rng, h, w: (rng.random((h, w)) > 0.6).astype(float),
    'blobs':
    blob_map,
    'noisy_blobs':
    lambda rng, h, w: blob_map(rng, h, w) + rng.normal(0, 0.1, (h, w)),
    'borders':
    border_map,
    'constant':
    lambda rng, h, w: np.full((h, w), 0.7),
    'zeros':
    lambda rng, h, w: np.zeros((h, w), np.float32),
}
SIZES = [(1, 1), (2, 3), (3, 2), (1, 9), (7, 1), (5, 5), (17, 40), (48, 33),
         (64, 64)]


def assert_same(fast, maps, thresholds, multi):
    """``fast`` equals reference_boxes on every map."""
    for n, m in enumerate(maps):
        ref = reference_boxes(m, thresholds, multi)
        if multi:
            assert len(fast[n]) == len(ref)
            for t, (a, b) in enumerate(zip(fast[n], ref)):
                assert np.array_equal(a, b), (n, t, a, b)
        else:
            assert fast[n].dtype == np.int64
            np.testing.assert_array_equal(fast[n], ref)


@pytest.mark.parametrize('kind', sorted(MAKERS))
@pytest.mark.parametrize('multi', [False, True])
def test_equals_reference(kind, multi):
    rng = np.random.default_rng(sorted(MAKERS).index(kind))
    for h, w in SIZES:
        maps = [MAKERS[kind](rng, h, w) for _ in range(2)]
        assert_same(maps_to_boxes(maps, GRID, multi), maps, GRID, multi)


@pytest.mark.parametrize('multi', [False, True])
def test_equals_reference_batch_and_odd_thresholds(multi):
    rng = np.random.default_rng(7)
    maps = np.stack([blob_map(rng, 96, 128) for _ in range(3)])
    thresholds = [-0.5, 0.0, 0.2, 0.2, 0.05, 0.999, 1.0, 1.5]
    fast = maps_to_boxes(maps, thresholds, multi)
    assert_same(fast, maps, thresholds, multi)
    threaded = maps_to_boxes(maps, thresholds, multi, num_threads=2)
    assert_same(threaded, maps, thresholds, multi)
    both = maps_to_box_sets(maps, thresholds, num_threads=2)
    assert_same(both[int(multi)], maps, thresholds, multi)
    # One map, its thresholds shared by three threads.
    one = maps_to_boxes(maps[:1], GRID, multi, num_threads=3)
    assert_same(one, maps[:1], GRID, multi)


def test_rectangle_by_hand():
    # One 3x4 rectangle (rows 1-3, columns 2-5) in an 8x10 map.
    m = np.zeros((8, 10), np.float32)
    m[1:4, 2:6] = 1.0
    boxes = maps_to_boxes(m[None], [0.0, 0.5, 0.99, 1.0])[0]
    # boundingRect (2, 1, 4, 3) -> [x, y, x + w, y + h]; tau = 1 keeps nothing.
    np.testing.assert_array_equal(boxes, [[2, 1, 6, 4], [2, 1, 6, 4],
                                          [2, 1, 6, 4], [0, 0, 0, 0]])
    # Glued to the right and bottom borders: x + w, y + h clipped to W-1, H-1.
    m = np.zeros((8, 10), np.float32)
    m[5:, 6:] = 1.0
    np.testing.assert_array_equal(
        maps_to_boxes(m[None], [0.5])[0], [[6, 5, 9, 7]])


def test_uint8_cut_is_strict():
    # Normalised values 0, 0.5, 1 become 0, 127, 255. tau = 0.5 cuts at
    # int(127.5) = 127, which drops the 127 pixel; tau = 0.49 cuts at 124.
    m = np.array([[0.0, 0.5, 1.0]], np.float32)
    np.testing.assert_array_equal(
        maps_to_boxes(m[None], [0.49, 0.5])[0], [[1, 0, 2, 0], [2, 0, 2, 0]])


def test_largest_and_all_contours():
    m = np.zeros((20, 30), np.float32)
    m[2:5, 3:6] = 1.0  # 3x3 square, contour area 4
    m[10:18, 12:25] = 0.8  # 8x13 rectangle, contour area 84
    largest = maps_to_boxes(m[None], [0.5])[0]
    np.testing.assert_array_equal(largest, [[12, 10, 25, 18]])
    every = maps_to_boxes(m[None], [0.5, 0.9], multi_contour=True)[0]
    assert sorted(map(tuple, every[0])) == [(3, 2, 6, 5), (12, 10, 25, 18)]
    np.testing.assert_array_equal(every[1], [[3, 2, 6, 5]])


def test_constant_and_empty_results():
    thresholds = [0.0, 0.3, 0.9]
    for m in (np.full((6, 6), 3.0), np.zeros((6, 6))):
        np.testing.assert_array_equal(
            maps_to_boxes(m[None], thresholds)[0], np.zeros((3, 4)))
        for boxes in maps_to_boxes(m[None], thresholds, True)[0]:
            np.testing.assert_array_equal(boxes, [[0, 0, 0, 0]])
    assert maps_to_boxes(np.zeros((2, 4, 4)), []).shape == (2, 0, 4)
    assert maps_to_boxes([], GRID).shape == (0, 100, 4)


def test_multi_contour_arrays_are_not_shared():
    m = np.zeros((1, 8, 8))
    m[0, 2:5, 2:5] = 1
    sets = maps_to_boxes(m, [0.1, 0.2, 1.0, 1.0], multi_contour=True)[0]
    sets[0][0, 0] = sets[2][0, 0] = 99  # equal masks, separate arrays
    np.testing.assert_array_equal(sets[1], [[2, 2, 5, 5]])
    np.testing.assert_array_equal(sets[3], [[0, 0, 0, 0]])


def test_maps_of_mixed_sizes():
    rng = np.random.default_rng(3)
    maps = [blob_map(rng, 20, 30), blob_map(rng, 41, 17)]
    with pytest.raises(ValueError):  # a list of mixed sizes cannot stack
        np.stack(maps)
    assert_same(maps_to_boxes(maps, GRID, True), maps, GRID, True)


def test_normalize_map():
    np.testing.assert_allclose(
        normalize_map(np.array([[1, 3], [5, 9]])), [[0, 0.25], [0.5, 1]])
    out = normalize_map(np.array([[2.0, 2.0]]))
    assert out.dtype == np.float32 and not out.any()
    # Extreme but finite values do not overflow to NaN.
    big = np.array([[-1e308, 0.0, 1e308]])
    np.testing.assert_array_equal(normalize_map(big), [[0, 0.5, 1]])


def test_bad_maps_raise():
    m = np.ones((4, 4), np.float32)
    m[0, 0], m[1, 1] = np.nan, np.inf
    with pytest.raises(ValueError, match='2 NaN or infinite'):
        normalize_map(m)
    with pytest.raises(ValueError, match='NaN'):
        maps_to_boxes(m[None], GRID)
    with pytest.raises(ValueError, match='empty'):
        normalize_map(np.zeros((0, 5)))
    with pytest.raises(ValueError, match='2-D'):
        reference_boxes(np.zeros((2, 2, 2)), GRID)
    with pytest.raises(ValueError, match='batch'):
        maps_to_boxes(np.zeros((4, 4)), GRID)
    with pytest.raises(ValueError, match='finite'):
        maps_to_boxes(np.zeros((1, 4, 4)), [0.1, float('nan')])


def test_box_iou_by_hand():
    a = np.array([[0, 0, 9, 9], [0, 0, 0, 0]])
    b = np.array([[5, 5, 14, 14], [0, 0, 9, 9], [20, 20, 30, 30]])
    iou = box_iou(a, b)
    assert iou.shape == (2, 3)
    # Inclusive corners: areas 10 * 10; overlap columns/rows 5..9 -> 5 * 5.
    np.testing.assert_allclose(iou[0], [25 / 175, 1.0, 0.0])
    # [0, 0, 0, 0] covers one pixel.
    np.testing.assert_allclose(iou[1], [0.0, 1 / 100, 0.0])
    np.testing.assert_allclose(box_iou([0, 0, 0, 0], [0, 0, 0, 0]), [[1.0]])


def ring_map(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Concentric waves around a random centre: rings with holes, with
    further rings and discs inside the holes."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    cy, cx = rng.uniform(0, h), rng.uniform(0, w)
    radius = np.hypot(yy - cy, xx - cx)
    return np.cos(radius * rng.uniform(0.4, 1.2)) + rng.normal(0, 0.2, (h, w))


def tie_map(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Random binary blocks of one size: many components of equal area."""
    block = int(rng.integers(1, 4))
    cells = rng.random((h // block + 1, w // block + 1)) > 0.55
    return np.kron(cells, np.ones((block, block)))[:h, :w]


@pytest.mark.parametrize('maker', [ring_map, tie_map])
def test_largest_contour_among_outermost_equals_reference(maker):
    # The largest-contour mode traces outermost contours only (RETR_EXTERNAL);
    # masks with holes, nested components and equal areas keep the
    # reference's choice, and agree with the RETR_TREE pass of
    # maps_to_box_sets.
    rng = np.random.default_rng(11)
    maps = [maker(rng, h, w) for h, w in [(40, 40), (31, 57), (64, 48)] * 4]
    thresholds = np.arange(0, 1, 0.05)
    fast = maps_to_boxes(maps, thresholds)
    assert_same(fast, maps, thresholds, False)
    largest, every = maps_to_box_sets(maps, thresholds)
    np.testing.assert_array_equal(largest, fast)
    assert_same(every, maps, thresholds, True)


def test_ring_with_hole_and_inner_disc_by_hand():
    # A 9x9 square ring (rows/columns 1-9) around a 5x5 hole (3-7) holding a
    # single pixel (5, 5). RETR_TREE lists the ring's outer contour, its
    # hole (traced through the ring pixels 2..8 around the hole) and the
    # pixel inside; the outer contour is the largest.
    m = np.zeros((12, 12), np.float32)
    m[1:10, 1:10] = 1.0
    m[3:8, 3:8] = 0.0
    m[5, 5] = 0.8
    np.testing.assert_array_equal(
        maps_to_boxes(m[None], [0.5, 0.9])[0], [[1, 1, 10, 10]] * 2)
    every = maps_to_boxes(m[None], [0.5, 0.9], multi_contour=True)[0]
    np.testing.assert_array_equal(every[0],
                                  [[1, 1, 10, 10], [2, 2, 9, 9], [5, 5, 6, 6]])
    np.testing.assert_array_equal(every[1], [[1, 1, 10, 10], [2, 2, 9, 9]])


def test_equal_areas_keep_the_reference_order():
    # Two 3x3 squares (contour area 4 each): max() keeps the first one in
    # OpenCV's list, which puts the lower square (rows 6-8) first.
    m = np.zeros((10, 12), np.float32)
    m[1:4, 1:4] = 1.0
    m[6:9, 7:10] = 1.0
    np.testing.assert_array_equal(reference_boxes(m, [0.5]), [[7, 6, 10, 9]])
    np.testing.assert_array_equal(maps_to_boxes(m[None], [0.5])[0],
                                  [[7, 6, 10, 9]])
    # Single pixels and lines have contour area 0: again the first contour
    # in OpenCV's order wins, here the pixel (8, 6) over the lines.
    m = np.zeros((10, 12), np.float32)
    m[1, 1:6] = 1.0  # horizontal line
    m[4:9, 2] = 1.0  # vertical line
    m[6, 8] = 1.0  # single pixel
    np.testing.assert_array_equal(reference_boxes(m, [0.5]), [[8, 6, 9, 7]])
    np.testing.assert_array_equal(maps_to_boxes(m[None], [0.5])[0],
                                  [[8, 6, 9, 7]])
    every = maps_to_boxes(m[None], [0.5], multi_contour=True)[0][0]
    np.testing.assert_array_equal(every,
                                  [[8, 6, 9, 7], [2, 4, 3, 9], [1, 1, 6, 2]])


def test_same_masks_by_hand():
    # Zeros and one pixel of 100 at (1, 1), off the pixels sampled every 4
    # rows and columns: the sample sees only 0, and the whole-map check
    # must find the 100 between cuts 90 and 120.
    m8 = np.zeros((8, 8), np.uint8)
    m8[1, 1] = 100
    cuts = np.array([150, 120, 90, 50, -1])
    # Pairs (120, 150], (90, 120], (50, 90], (-1, 50]: only the second and
    # the last hold a value (100 and 0).
    np.testing.assert_array_equal(
        _same_masks(m8, cuts), [True, False, True, False])
    # The sample settles the pairs when it holds the values.
    m8[4, 4] = 100
    np.testing.assert_array_equal(
        _same_masks(m8, cuts), [True, False, True, False])
    assert _same_masks(m8, cuts[:1]).shape == (0, )


def test_multi_contour_mode_traces_equal_masks_once(monkeypatch):
    # A two-valued map: all 100 cuts below 255 keep the same two squares.
    m = np.zeros((20, 30), np.float32)
    m[2:6, 3:9] = 1
    m[10:18, 15:25] = 1
    traced, find_contours = [], cv2.findContours

    def counting(binary, *args, **kwargs):
        traced.append(binary.shape)
        return find_contours(binary, *args, **kwargs)

    monkeypatch.setattr(boxes_module.cv2, 'findContours', counting)
    every = maps_to_boxes(m[None], GRID, multi_contour=True)[0]
    monkeypatch.undo()
    assert len(traced) == 1
    reference = reference_boxes(m, GRID, multi_contour=True)
    assert all(np.array_equal(a, b) for a, b in zip(every, reference))
    # OpenCV lists the lower square first.
    np.testing.assert_array_equal(every[50],
                                  [[15, 10, 25, 18], [3, 2, 9, 6]])


def test_peaks_cover_the_regional_maxima_by_hand():
    m8 = np.array(
        [[0, 0, 0, 0, 0, 0],
         [0, 4, 4, 0, 0, 0],
         [0, 0, 0, 0, 6, 0],
         [2, 2, 2, 3, 0, 0],
         [2, 2, 2, 0, 0, 8]], np.uint8)  # yapf: disable
    # Regional maxima: the plateau of 4s, the 6 and the 8. The float map
    # equals m8 here, so the pixels counted are those as high as their 8
    # neighbours: both 4s, the 6, the 8, and four of the 2s ((3, 0), (3, 1),
    # (4, 0), (4, 1)), which are not a regional maximum (the plateau of 2s
    # touches the 3): a superset, as allowed.
    below = _peaks_below(m8.astype(np.float32), m8)
    assert below.shape == (257, )
    # below[c + 1]: counted pixels of value <= c.
    np.testing.assert_array_equal(below[[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 256]],
                                  [0, 0, 0, 4, 4, 6, 6, 7, 7, 8, 8])
    # The float map breaks uint8 ties: a plateau of 5s on a slope of floats
    # is no peak, its float maximum (5.9) is; zeros are never counted.
    scaled = np.array([[5.1, 5.5, 5.9, 0.0]], np.float32)
    np.testing.assert_array_equal(
        np.flatnonzero(np.diff(_peaks_below(scaled, scaled.astype(
            np.uint8)))), [5])
    np.testing.assert_array_equal(
        _peaks_below(np.zeros((1, 4), np.float32), np.zeros((1, 4),
                                                            np.uint8)),
        np.zeros(257))


def test_masks_with_one_outermost_component_are_not_traced(monkeypatch):
    # A high peak (1.0, at x = 10) and a low one (0.6, at x = 45) joined by
    # a saddle at 0.3, along a 3-pixel-high ridge (rows 1-3) of a 5 x 61
    # map; in uint8: peaks 255 and 153, saddle 76.
    x = np.arange(61)
    ridge = np.maximum(np.exp(-(x - 10)**2 / 30.0), 0.3 * (x < 50))
    ridge = np.maximum(ridge, 0.6 * np.exp(-(x - 45)**2 / 8.0))
    m = np.zeros((5, 61))
    m[1:4] = ridge
    traced, find_contours = [], cv2.findContours

    def counting(binary, *args, **kwargs):
        traced.append(binary.shape)
        return find_contours(binary, *args, **kwargs)

    monkeypatch.setattr(boxes_module.cv2, 'findContours', counting)
    fast = maps_to_boxes(m[None], GRID)[0]
    monkeypatch.undo()
    np.testing.assert_array_equal(fast, reference_boxes(m, GRID))
    # The masks above the low peak's top (tau >= 0.6) form one component:
    # only the highest is traced. Between the saddle and that top the two
    # peaks are apart (traced), and below the saddle they are joined: only
    # the first such mask is traced.
    distinct = len(np.unique([int(t * 255) for t in GRID]))
    assert len(traced) < distinct / 2
    # tau = 0: everything above 0 (x 0-51); tau = 0.4 (cut 102): the high
    # peak (x 5-15, contour area 20) beats the low one (x 44-46, area 4).
    np.testing.assert_array_equal(fast[[0, 40]], [[0, 1, 52, 4],
                                                  [5, 1, 16, 4]])
