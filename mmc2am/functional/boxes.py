"""Class-agnostic boxes from activation maps, over a list of thresholds.

The box procedure is the reference's (wsolevaluation's, reused by the C²AM
authors; method.md section 5): min-max normalise the map, scale it to
``uint8`` (``map * 255``, truncated), and for each threshold ``tau``
binarise at ``int(tau * max)`` (a pixel is in when it is strictly above),
find the contours (``RETR_TREE``, ``CHAIN_APPROX_SIMPLE``) and take the
bounding rectangle of the largest one (or of every one). A box is
``[x0, y0, x1, y1]`` with ``x1 = min(x + w, W - 1)`` and
``y1 = min(y + h, H - 1)``; a threshold that leaves no contour gives
``[0, 0, 0, 0]``.

:func:`reference_boxes` is that procedure, one OpenCV pass per threshold;
it is the ground truth. :func:`maps_to_boxes` returns exactly the same boxes,
faster:

- a binary mask only depends on which pixels lie above the cut, so a cut at
  or above the map's maximum needs no OpenCV call, and in multi-contour
  mode cuts with no pixel value between them (the masks are nested) are
  traced once (:func:`_same_masks`);
- each mask is binarised and traced only inside the bounding rectangle of
  its pixels, grown by one pixel (clipped to the map): the pixels outside are
  background either way, contour tracing sees the same neighbourhoods and
  meets the pixels in the same raster order, so the contours, their order
  and their areas are those of the whole map, shifted;
- in largest-contour mode only the outer contours of the outermost
  components are traced (``RETR_EXTERNAL``): every other contour of
  ``RETR_TREE`` (a hole's, or a component's inside a hole) runs through
  pixels enclosed by an outermost outer contour, so its ``contourArea`` is
  no larger, and it comes after that outer contour in ``RETR_TREE``'s list
  (a parent precedes its children), so ``max`` never picks it; the
  outermost contours come in the same order in both modes (tested against
  the reference on masks with holes, nested parts and equal areas);
- in largest-contour mode most masks are not traced at all
  (:mod:`mmc2am.functional.mask_tracing`): between two cuts with no
  regional maximum of the map in between, components can only grow and
  merge downwards, so a mask with one outermost component settles the
  masks below it, and two traced masks settle those in between when the
  higher one's largest component provably stays the largest; a largest
  component covering more than half of its bounding rectangle settles the
  lower masks whose pixels have that same rectangle. Candidate maxima come
  from one dilation of the float map (:func:`_peaks_below`);
- the areas (shoelace formula on integer points, the very sums
  ``cv2.contourArea`` forms, so exact) and bounding rectangles of many
  contours are computed in one vectorised pass;
- in largest-contour mode the outer contours are traced by a compiled
  tracer (:mod:`mmc2am.functional._outer_contours`, built by setup.py
  where a C compiler is found): the same contours as
  ``cv2.findContours(RETR_EXTERNAL, CHAIN_APPROX_SIMPLE)``, point for point
  and in its order, with their areas and rectangles, in about half the
  time. Without it OpenCV traces them;
- ``num_threads`` shares the maps among threads (the tracers, OpenCV and
  numpy release the GIL for part of the work; the rules' Python holds
  it).

In multi-contour mode every distinct mask is still traced: its boxes are
those of all its contours. ``tools/benchmark_boxes.py`` measures the gain.
"""
from concurrent.futures import ThreadPoolExecutor
from typing import List, NamedTuple, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from mmc2am.functional.mask_tracing import (MaskTracer, Region, contour_table,
                                            first_last,
                                            largest_contour_masks,
                                            pixel_boxes_inside)

MapsType = Union[np.ndarray, Sequence[np.ndarray]]
BoxesType = Union[np.ndarray, List[List[np.ndarray]]]

# From this many contours on, rectangles are computed in one numpy pass
# instead of one OpenCV call per contour (measured break-even point).
_VECTORISE_RECTS_FROM = 32


def _normalized(m: np.ndarray) -> np.ndarray:
    """Min-max normalised map in its working dtype (see
    :func:`normalize_map`)."""
    m = np.asarray(m)
    if m.size == 0:
        raise ValueError(f'normalize_map got an empty map of shape '
                         f'{m.shape}; a map needs at least one pixel.')
    if m.dtype not in (np.float32, np.float64):
        m = m.astype(np.float64)
    low, high = m.min(), m.max()
    if not (np.isfinite(low) and np.isfinite(high)):
        bad = m.size - int(np.isfinite(m).sum())
        raise ValueError(
            f'normalize_map got a map with {bad} NaN or infinite value(s) '
            f'out of {m.size}; check the model output (e.g. a diverged '
            'training or an fp16 overflow) before extracting boxes.')
    if high == low:
        return np.zeros(m.shape, dtype=m.dtype)
    with np.errstate(over='ignore'):
        span = high - low  # the maximum of m - low: rounding is monotone
    if not np.isfinite(span):  # values near the dtype's limits
        m, low, span = m / 2, low / 2, high / 2 - low / 2
    shifted = m - low
    shifted /= span
    return shifted


def normalize_map(m: np.ndarray) -> np.ndarray:
    """Min-max normalise a map to ``[0, 1]``.

    The arithmetic of wsolevaluation's ``normalize_scoremap`` (the
    reference's): subtract the minimum, then divide by the maximum of the
    result, in the map's own dtype for float32 and float64 maps (other
    dtypes in float64). Unlike it, a map with NaN or infinite values is an
    error rather than all zeros.

    Args:
        m (np.ndarray[H, W]): A map of any real dtype.

    Returns:
        np.ndarray[H, W]: float32 map with minimum 0 and maximum 1; a
        constant map becomes all zeros.

    Raises:
        ValueError: If the map is empty or holds NaN or infinite values.
    """
    return _normalized(m).astype(np.float32, copy=False)


def _scaled_uint8(m: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """A 2-D map min-max normalised (:func:`normalize_map`, in its working
    dtype) times 255, and that truncated to uint8, as the reference
    scales it."""
    m = np.asarray(m)
    if m.ndim != 2:
        raise ValueError(f'a map must be 2-D (np.ndarray[H, W]); got shape '
                         f'{m.shape}.')
    scaled = _normalized(m)
    scaled *= 255
    return scaled, scaled.astype(np.uint8)


def _cuts(top: int, thresholds: Sequence[float]) -> np.ndarray:
    """Integer cut ``int(tau * top)`` of each threshold (int64[T]), for a
    uint8 map of maximum ``top``."""
    # int() truncates towards zero, as astype does; cuts beyond -1 and
    # 256 give the masks of -1 and 256 (everything, nothing).
    products = np.asarray(thresholds, dtype=np.float64) * top
    return np.clip(products, -1, 256).astype(np.int64)


def _check_thresholds(thresholds: Sequence[float]) -> np.ndarray:
    """Thresholds as a 1-D float64 array, rejecting non-finite values."""
    taus = np.asarray(thresholds, dtype=np.float64).reshape(-1)
    if not np.isfinite(taus).all():
        raise ValueError(f'thresholds must be finite; got {thresholds}.')
    return taus


def _rect_to_box(x: int, y: int, w: int, h: int, width: int,
                 height: int) -> List[int]:
    """Reference box of a ``cv2.boundingRect`` in a ``height x width``
    map."""
    return [x, y, min(x + w, width - 1), min(y + h, height - 1)]


def reference_boxes(m: np.ndarray,
                    thresholds: Sequence[float],
                    multi_contour: bool = False
                    ) -> Union[np.ndarray, List[np.ndarray]]:
    """Boxes of one map by the reference procedure, one threshold at a time.

    This is the slow ground truth of :func:`maps_to_boxes`.

    Args:
        m (np.ndarray[H, W]): The map (any range; it is min-max
            normalised).
        thresholds (Sequence[float]): Thresholds ``tau``, relative to the
            map's maximum.
        multi_contour (bool): Return the box of every contour instead of the
            largest one. Defaults to False.

    Returns:
        np.ndarray[T, 4] | list[np.ndarray[K, 4]]: int64 boxes
        ``[x0, y0, x1, y1]`` per threshold; in multi-contour mode one array
        per threshold, ``[[0, 0, 0, 0]]`` (K = 1) when there is no contour.
    """
    m8 = _scaled_uint8(m)[1]
    height, width = m8.shape
    top = m8.max()
    boxes = []
    for tau in _check_thresholds(thresholds):
        _, binary = cv2.threshold(m8, int(tau * top), 255, cv2.THRESH_BINARY)
        contours, _ = cv2.findContours(binary, cv2.RETR_TREE,
                                       cv2.CHAIN_APPROX_SIMPLE)
        if len(contours) == 0:
            found = [[0, 0, 0, 0]]
        else:
            if not multi_contour:
                contours = [max(contours, key=cv2.contourArea)]
            found = [
                _rect_to_box(*cv2.boundingRect(c), width, height)
                for c in contours
            ]
        boxes.append(np.array(found, dtype=np.int64))
    if multi_contour:
        return boxes
    return np.stack(boxes).reshape(-1, 4)


def _all_boxes(contours: Sequence[np.ndarray], width: int,
               height: int) -> np.ndarray:
    """Reference boxes (int64[C, 4]) of contours in the pixels of a
    ``height x width`` map."""
    if len(contours) < _VECTORISE_RECTS_FROM:
        boxes = [
            _rect_to_box(x, y, w, h, width, height)
            for x, y, w, h in map(cv2.boundingRect, contours)
        ]
        return np.array(boxes, dtype=np.int64).reshape(-1, 4)
    # cv2.boundingRect of integer points: x = min, w = max - min + 1.
    points, starts, _ = contour_table(contours)
    low = np.minimum.reduceat(points, starts, axis=0)
    high = np.maximum.reduceat(points, starts, axis=0) + 1
    return np.concatenate([low, np.minimum(high, (width - 1, height - 1))],
                          axis=1)


def _histogram(m8: np.ndarray) -> np.ndarray:
    """Counts of the 256 values of a uint8 map (int64[256])."""
    if m8.size < 2**24:  # calcHist counts in float32: exact below 2**24
        hist = cv2.calcHist([m8], [0], None, [256], [0, 256])
        return hist.reshape(-1).astype(np.int64)
    return np.bincount(m8.reshape(-1), minlength=256)


# Every this many rows and columns, pixels are sampled to find which values
# a map holds before a whole-map histogram is needed (see _same_masks).
_SAMPLE_STRIDE = 4


def _same_masks(m8: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Whether consecutive cuts give equal masks: ``same[i]`` when no pixel
    value lies in ``(cuts[i + 1], cuts[i]]`` (bool[C - 1]).

    A sample of the pixels settles most pairs (a value seen splits them);
    the runs of pairs it leaves are counted on the whole map, and only when
    one of them holds a pixel the sample missed does a whole-map histogram
    decide.

    Args:
        m8 (np.ndarray[H, W]): The uint8 map.
        cuts (np.ndarray[C]): Distinct cuts in ``-1 .. 255``, decreasing.
    """
    if len(cuts) < 2:
        return np.zeros(0, dtype=bool)

    def same_by(present: np.ndarray) -> np.ndarray:
        # seen[v + 1]: present values <= v.
        seen = np.concatenate([[0], np.cumsum(present)])
        return seen[cuts[:-1] + 1] == seen[cuts[1:] + 1]

    stride = _SAMPLE_STRIDE
    sample = np.ascontiguousarray(m8[::stride, ::stride])
    same = same_by(np.bincount(sample.reshape(-1), minlength=256) > 0)
    # Runs of unsettled pairs: from the lowest cut to the highest of each.
    edges = np.diff(np.concatenate([[0], same.view(np.int8), [0]]))
    for first, stop in zip(np.flatnonzero(edges == 1),
                           np.flatnonzero(edges == -1)):
        low, high = cuts[stop], cuts[first]
        if np.count_nonzero(cv2.inRange(m8, int(low) + 1, int(high))):
            return same_by(_histogram(m8) > 0)
    return same


def _peaks_below(scaled: np.ndarray, m8: np.ndarray) -> np.ndarray:
    """``below[c + 1]``: how many pixels of ``m8`` at most ``c`` are local
    maxima of the float map it truncates, for ``c`` in ``-1 .. 255``
    (int64[257]).

    Every regional maximum of ``m8`` (an 8-connected plateau whose
    neighbours are all lower) holds such a pixel: its pixel ``p`` of
    highest float value is at least as high as its neighbours on the
    plateau, and higher than those off it (their uint8 value is lower, and
    truncation is monotone). So two cuts with the same count have no
    regional maximum between them (the converse need not hold: plateaus of
    the float map add pixels, which only splits segments in
    :func:`largest_contour_masks`). Pixels of ``m8 == 0`` are left out: no
    mask holds them.

    Args:
        scaled (np.ndarray[H, W]): The float map ``m8`` truncates
            (float32 or float64).
        m8 (np.ndarray[H, W]): ``scaled.astype(np.uint8)``.
    """
    highest = cv2.dilate(scaled, np.ones((3, 3), dtype=np.uint8))
    # Raising the neighbourhood maxima to 1 leaves out the pixels below 1
    # (m8 == 0, often half a ReLU map) and keeps the others.
    cv2.max(highest, 1.0, dst=highest)
    counts = np.bincount(m8[scaled >= highest], minlength=256)
    return np.concatenate([[0], np.cumsum(counts)])


class _Plan(NamedTuple):
    """What one map needs traced: the uint8 map; per distinct non-empty
    mask, in decreasing cut order, its window ``(cut, top, bottom, left,
    right)``, its pixels' bounding rectangle ``(x0, y0, x1, y1)`` and
    that rectangle's reference box;
    whether an empty mask comes first; the distinct mask of each threshold;
    and, in largest-contour mode, each mask's segment key
    (:func:`_peaks_below` at its cut) for :func:`largest_contour_masks`.
    """
    m8: np.ndarray
    crops: List[Tuple[int, int, int, int, int]]
    mask_rects: List[Tuple[int, int, int, int]]
    mask_boxes: List[List[int]]
    empty: int
    inverse: np.ndarray
    segment_keys: Optional[List[int]]


def _plan(m: np.ndarray, taus: np.ndarray, segments: bool) -> _Plan:
    """Distinct masks of one map over the thresholds, and their windows."""
    scaled, m8 = _scaled_uint8(m)
    height, width = m8.shape
    row_max, col_max = m8.max(axis=1), m8.max(axis=0)
    top = int(row_max.max())
    cuts = _cuts(top, taus)
    live = cuts < top  # a cut at or above the maximum keeps none
    # Distinct live cuts, decreasing; the masks are nested, so cuts with no
    # pixel value between them give one mask, traced at the highest cut.
    # Largest-contour mode skips that search: such masks share a segment,
    # where the rules settle them from the traces of their neighbours.
    distinct = np.unique(cuts[live])[::-1]
    starts = np.ones(len(distinct), dtype=bool)
    if not segments:
        starts[1:] = ~_same_masks(m8, distinct)
    group = np.cumsum(starts) - 1
    live_cuts = distinct[starts]
    empty = int(not live.all())
    inverse = np.zeros(len(cuts), dtype=np.int64)
    inverse[live] = empty + group[np.searchsorted(-distinct, -cuts[live])]
    y0, y1 = first_last(row_max, live_cuts)
    x0, x1 = first_last(col_max, live_cuts)
    # Grow by one pixel so the window's edge is background or the map's.
    crops = list(
        zip(live_cuts.tolist(),
            np.maximum(y0 - 1, 0).tolist(),
            np.minimum(y1 + 2, height).tolist(),
            np.maximum(x0 - 1, 0).tolist(),
            np.minimum(x1 + 2, width).tolist()))
    mask_rects = list(zip(x0.tolist(), y0.tolist(), x1.tolist(),
                          y1.tolist()))
    # boundingRect of the pixels: (x0, y0, x1 - x0 + 1, y1 - y0 + 1).
    mask_boxes = np.stack([
        x0, y0,
        np.minimum(x1 + 1, width - 1),
        np.minimum(y1 + 1, height - 1)
    ], axis=1).tolist()
    keys = None
    if segments:
        keys = _peaks_below(scaled, m8)[live_cuts + 1].tolist()
    return _Plan(m8, crops, mask_rects, mask_boxes, empty, inverse, keys)


def _largest_box(tracer: MaskTracer, index: int, width: int,
                 height: int) -> List[int]:
    """Reference box of the largest contour of mask ``index`` (map
    pixels)."""
    x, y, w, h = tracer.rect(index, tracer.largest(index))
    return _rect_to_box(x, y, w, h, width, height)


def _map_boxes(m: np.ndarray, taus: np.ndarray, largest: bool,
               every: bool) -> Tuple[Optional[np.ndarray], Optional[list]]:
    """Boxes of one map: the largest contour's (np.ndarray[T, 4]) and every
    contour's (list of T np.ndarray[K, 4]), each when asked for."""
    plan = _plan(m, taus, largest and not every)
    height, width = plan.m8.shape
    largest_boxes = every_boxes = None
    if every:
        tracer = MaskTracer(plan.m8, plan.crops, tree=True)
        per_mask = [tracer(i) for i in range(len(plan.crops))]
        every_boxes = [_all_boxes(c, width, height) for c in per_mask]
        if largest:
            largest_boxes = [
                _largest_box(tracer, i, width, height)
                for i in range(len(per_mask))
            ]
        return _assemble(plan, largest_boxes, every_boxes)
    tracer = MaskTracer(plan.m8, plan.crops)
    how = largest_contour_masks(tracer, plan.segment_keys, plan.mask_rects)
    # None: the box of the mask's pixels.
    largest_boxes = list(plan.mask_boxes)
    # A region: the box of the mask's pixels inside it.
    inside = [i for i, h in enumerate(how) if isinstance(h, Region)]
    rects = pixel_boxes_inside(plan.m8, [plan.crops[i][0] for i in inside],
                               [how[i] for i in inside])
    for i, (x0, y0, x1, y1) in zip(inside, rects):
        largest_boxes[i] = _rect_to_box(x0, y0, x1 - x0 + 1, y1 - y0 + 1,
                                        width, height)
    # Traced: the largest of its contours.
    for i, contours in enumerate(how):
        if isinstance(contours, list):
            largest_boxes[i] = _largest_box(tracer, i, width, height)
    return _assemble(plan, largest_boxes, None)


def _assemble(plan: _Plan, largest_boxes: Optional[list],
              every_boxes: Optional[list]
              ) -> Tuple[Optional[np.ndarray], Optional[list]]:
    """Boxes per threshold from the boxes per distinct mask: the largest
    contour's (np.ndarray[T, 4]) and every contour's (list of T
    np.ndarray[K, 4]); an empty mask gives ``[0, 0, 0, 0]``."""
    per_threshold = sets = None
    if largest_boxes is not None:
        per_mask = [[0, 0, 0, 0]] * plan.empty + largest_boxes
        per_threshold = np.array(per_mask, dtype=np.int64)[plan.inverse]
    if every_boxes is not None:
        empty = [np.zeros((1, 4), dtype=np.int64)] * plan.empty
        per_mask = empty + every_boxes
        sets, seen = [], set()
        for i in plan.inverse.tolist():  # thresholds sharing a mask: copies
            sets.append(per_mask[i].copy() if i in seen else per_mask[i])
            seen.add(i)
    return per_threshold, sets


def _sweep(maps: MapsType, thresholds: Sequence[float], largest: bool,
           every: bool,
           num_threads: int) -> Tuple[Optional[np.ndarray], Optional[list]]:
    """Boxes of a batch: the largest contour's (np.ndarray[N, T, 4]) and
    every contour's (``[N][T]`` np.ndarray[K, 4]), each when asked for."""
    if isinstance(maps, np.ndarray) and maps.ndim != 3:
        raise ValueError('boxes are extracted from a batch of maps '
                         '(np.ndarray[N, H, W] or a list of [H, W]); got an '
                         f'array of shape {maps.shape} (wrap a single map as '
                         'maps[None]).')
    taus = _check_thresholds(thresholds)
    maps = list(maps)
    largest_boxes = np.zeros((len(maps), len(taus), 4), dtype=np.int64)
    every_boxes = [[] for _ in maps]
    if len(taus) > 0 and maps:

        def job(m: np.ndarray):
            return _map_boxes(m, taus, largest, every)

        if num_threads > 1 and len(maps) > 1:
            with ThreadPoolExecutor(min(num_threads, len(maps))) as pool:
                done = list(pool.map(job, maps))
        else:
            done = [job(m) for m in maps]
        for n, (boxes, sets) in enumerate(done):
            if largest:
                largest_boxes[n] = boxes
            if every:
                every_boxes[n] = sets
    return (largest_boxes if largest else None, every_boxes if every else None)


def maps_to_boxes(maps: MapsType,
                  thresholds: Sequence[float],
                  multi_contour: bool = False,
                  num_threads: int = 1) -> BoxesType:
    """Boxes of a batch of maps for a whole list of thresholds.

    Exactly the boxes of :func:`reference_boxes` (see the module docstring
    for the procedure and how it is sped up).

    Args:
        maps (np.ndarray[N, H, W] | Sequence[np.ndarray[H, W]]): Maps of any
            range (each is min-max normalised); a list may mix sizes.
        thresholds (Sequence[float]): Thresholds ``tau`` relative to each
            map's maximum, e.g. ``np.arange(0, 1, 0.01)``.
        multi_contour (bool): Return the box of every contour instead of the
            largest one. Defaults to False.
        num_threads (int): Threads sharing the maps (contour tracing
            releases the GIL). Defaults to 1: the caller's
            thread only.

    Returns:
        np.ndarray[N, T, 4] | list[list[np.ndarray[K, 4]]]: int64 boxes
        ``[x0, y0, x1, y1]`` in each map's pixels. Largest-contour mode
        gives one array, ``[0, 0, 0, 0]`` where a threshold leaves no
        contour. Multi-contour mode gives ``boxes[n][t]``, an array with one
        row per contour (in OpenCV's order), ``[[0, 0, 0, 0]]`` when there
        is none.
    """
    largest, every = _sweep(maps, thresholds, not multi_contour, multi_contour,
                            num_threads)
    return every if multi_contour else largest


def maps_to_box_sets(maps: MapsType,
                     thresholds: Sequence[float],
                     num_threads: int = 1
                     ) -> Tuple[np.ndarray, List[List[np.ndarray]]]:
    """Largest-contour and multi-contour boxes together, from one contour
    pass (what the WSOL metrics need: MaxBoxAcc and MaxBoxAccV2).

    Args:
        maps, thresholds, num_threads: As in :func:`maps_to_boxes`.

    Returns:
        tuple: ``maps_to_boxes(maps, thresholds)`` (np.ndarray[N, T, 4]) and
        ``maps_to_boxes(maps, thresholds, multi_contour=True)``.
    """
    return _sweep(maps, thresholds, True, True, num_threads)


def box_iou(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of ``[x0, y0, x1, y1]`` boxes with inclusive corners.

    The convention of the reference (wsolevaluation's
    ``calculate_multiple_iou``): a box covers pixels ``x0..x1`` and
    ``y0..y1``, so its area is ``(x1 - x0 + 1) * (y1 - y0 + 1)`` and the
    intersection is ``max(0, min(x1) - max(x0) + 1) * max(0, min(y1) -
    max(y0) + 1)``. A pair whose union is not positive has IoU 0.

    Args:
        boxes_a (np.ndarray[A, 4]): Boxes (a single box of shape [4] is
            accepted).
        boxes_b (np.ndarray[B, 4]): Boxes.

    Returns:
        np.ndarray[A, B]: float64 IoUs.
    """
    a = np.asarray(boxes_a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(boxes_b, dtype=np.float64).reshape(-1, 4)
    inter_w = np.maximum(
        0,
        np.minimum(a[:, None, 2], b[None, :, 2]) -
        np.maximum(a[:, None, 0], b[None, :, 0]) + 1)
    inter_h = np.maximum(
        0,
        np.minimum(a[:, None, 3], b[None, :, 3]) -
        np.maximum(a[:, None, 1], b[None, :, 1]) + 1)
    inter = inter_w * inter_h
    area_a = (a[:, 2] - a[:, 0] + 1) * (a[:, 3] - a[:, 1] + 1)
    area_b = (b[:, 2] - b[:, 0] + 1) * (b[:, 3] - b[:, 1] + 1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)
