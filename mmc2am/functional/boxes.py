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

- a binary mask only depends on which pixels lie above the cut, so cuts that
  keep the same number of pixels (the masks are nested) are computed once,
  and a cut that keeps none needs no OpenCV call;
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
  the reference on masks with holes, nested parts and equal areas). On
  noisy maps, whose masks have many holes, this is most of the gain;
- in largest-contour mode, masks are visited from the highest cut down, and
  a mask is not traced at all when it provably has a single outermost
  component: when a higher cut's traced mask has one (a single contour
  from ``RETR_EXTERNAL``) and no regional maximum of the uint8 map has a
  value between the two cuts. Every component of the lower mask holds a
  regional maximum above its cut (its highest plateau), hence above the
  higher cut, so it meets the higher mask; all but one of the higher
  mask's components lie in holes of the outermost one, and so do the lower
  mask's components that meet only those. The largest contour's box is
  then the bounding rectangle of the mask's pixels, known from the row and
  column maxima. The regional maxima are found once per map (one
  ``cv2.connectedComponents`` call); on a trained model's smooth maps,
  which have few, this skips most masks with one component. Masks with
  several outermost components are still traced;
- the binary masks of a map share one buffer instead of fresh memory each;
- the areas (shoelace formula on integer points, the very sums
  ``cv2.contourArea`` forms, so exact) and bounding rectangles of many
  contours are computed in one vectorised pass;
- ``num_threads`` deals the masks of each map to several threads (OpenCV
  releases the GIL while it traces), which helps even for a single map.

Contour tracing, which an exact result still needs for every mask with
several outermost components (the largest contour depends on their areas)
and in multi-contour mode for every distinct mask, stays most of the time.
``tools/benchmark_boxes.py`` measures the gain.
"""
from concurrent.futures import ThreadPoolExecutor
from typing import List, NamedTuple, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

MapsType = Union[np.ndarray, Sequence[np.ndarray]]
BoxesType = Union[np.ndarray, List[List[np.ndarray]]]

# From this many contours on, areas and rectangles are computed in one numpy
# pass instead of one OpenCV call per contour (measured break-even points).
_VECTORISE_AREAS_FROM = 160
_VECTORISE_RECTS_FROM = 32


def normalize_map(m: np.ndarray) -> np.ndarray:
    """Min-max normalise a map to ``[0, 1]``.

    Computed in float64 (the maximum maps to exactly 1), returned as float32.

    Args:
        m (np.ndarray[H, W]): A map of any real dtype.

    Returns:
        np.ndarray[H, W]: float32 map with minimum 0 and maximum 1; a
        constant map becomes all zeros.

    Raises:
        ValueError: If the map is empty or holds NaN or infinite values.
    """
    m = np.asarray(m)
    if m.size == 0:
        raise ValueError(f'normalize_map got an empty map of shape '
                         f'{m.shape}; a map needs at least one pixel.')
    m = m.astype(np.float64, copy=False)
    low, high = m.min(), m.max()
    if not (np.isfinite(low) and np.isfinite(high)):
        bad = m.size - int(np.isfinite(m).sum())
        raise ValueError(
            f'normalize_map got a map with {bad} NaN or infinite value(s) '
            f'out of {m.size}; check the model output (e.g. a diverged '
            'training or an fp16 overflow) before extracting boxes.')
    if high == low:
        return np.zeros(m.shape, dtype=np.float32)
    with np.errstate(over='ignore'):
        overflow = not np.isfinite(high - low)
    if overflow:  # values near the float64 limits
        m, low, high = m / 2, low / 2, high / 2
    return ((m - low) / (high - low)).astype(np.float32)


def _to_uint8(m: np.ndarray) -> np.ndarray:
    """Normalise a 2-D map and scale it to uint8 (``map * 255``,
    truncated)."""
    m = np.asarray(m)
    if m.ndim != 2:
        raise ValueError(f'a map must be 2-D (np.ndarray[H, W]); got shape '
                         f'{m.shape}.')
    return (normalize_map(m) * 255).astype(np.uint8)


def _cuts(m8: np.ndarray, thresholds: Sequence[float]) -> np.ndarray:
    """Integer cut ``int(tau * max)`` of each threshold (int64[T])."""
    top = int(m8.max())
    return np.array([int(float(tau) * top) for tau in thresholds],
                    dtype=np.int64)


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
    m8 = _to_uint8(m)
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


def _contour_table(contours: Sequence[np.ndarray]
                   ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points of many contours in one array.

    Returns:
        tuple: ``points`` (int64[P, 2]), ``starts`` (int64[C]) and
        ``lengths`` (int64[C]) of the contours in ``points``.
    """
    lengths = np.fromiter(
        map(len, contours), dtype=np.int64, count=len(contours))
    points = np.concatenate(contours).reshape(-1, 2).astype(np.int64)
    starts = np.cumsum(lengths) - lengths
    return points, starts, lengths


def _largest_contour(contours: Sequence[np.ndarray]) -> np.ndarray:
    """The first contour of largest ``cv2.contourArea``."""
    if len(contours) == 1:
        return contours[0]
    if len(contours) < _VECTORISE_AREAS_FROM:
        return max(contours, key=cv2.contourArea)
    points, starts, lengths = _contour_table(contours)
    # Shoelace sums, each point with its predecessor in its own contour;
    # integer arithmetic gives exactly cv2.contourArea's (doubled) sums.
    prev = np.arange(-1, len(points) - 1)
    prev[starts] = starts + lengths - 1
    x, y = points[:, 0], points[:, 1]
    cross = x[prev] * y - y[prev] * x
    areas = np.abs(np.add.reduceat(cross, starts))
    return contours[int(np.argmax(areas))]


def _all_boxes(contours: Sequence[np.ndarray], left: int, top: int, width: int,
               height: int) -> np.ndarray:
    """Reference boxes (int64[C, 4], map pixels) of every contour found in
    a crop whose corner is at ``(left, top)`` of a ``height x width`` map."""
    if len(contours) < _VECTORISE_RECTS_FROM:
        boxes = [
            _rect_to_box(x + left, y + top, w, h, width, height)
            for x, y, w, h in map(cv2.boundingRect, contours)
        ]
        return np.array(boxes, dtype=np.int64).reshape(-1, 4)
    # cv2.boundingRect of integer points: x = min, w = max - min + 1.
    points, starts, _ = _contour_table(contours)
    low = np.minimum.reduceat(points, starts, axis=0) + (left, top)
    high = np.maximum.reduceat(points, starts, axis=0) + (left + 1, top + 1)
    return np.concatenate([low, np.minimum(high, (width - 1, height - 1))],
                          axis=1)


def _first_last(profile: np.ndarray,
                cuts: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """First and last index where ``profile > cut``, for every cut (each
    cut must leave at least one index)."""
    above = profile[None, :] > cuts[:, None]
    first = np.argmax(above, axis=1)
    last = len(profile) - 1 - np.argmax(above[:, ::-1], axis=1)
    return first, last


def _pixels_above(m8: np.ndarray) -> np.ndarray:
    """``kept[c + 1]``: the number of pixels above cut ``c``, for ``c`` in
    ``-1 .. 255`` (int64[257])."""
    if m8.size < 2**24:  # calcHist counts in float32: exact below 2**24
        hist = cv2.calcHist([m8], [0], None, [256], [0, 256]).reshape(-1)
    else:
        hist = np.bincount(m8.reshape(-1), minlength=256)
    below = np.concatenate([[0], np.cumsum(hist.astype(np.int64))])
    return m8.size - below


def _maxima_below(m8: np.ndarray) -> np.ndarray:
    """``below[c + 1]``: the number of regional maxima of the map with a
    value of at most ``c``, for ``c`` in ``-1 .. 255`` (int64[257]).

    A regional maximum is an 8-connected plateau whose neighbours are all
    lower. Its pixels are at least as high as their 8 neighbours (set
    ``S``), and adjacent pixels of ``S`` are equal, so the plateaus of ``S``
    are its 8-connected components; a component is a regional maximum unless
    one of its pixels has an equal neighbour outside ``S`` (one that has a
    higher neighbour). Plateaus of 0 are left out: one is a regional
    maximum only when it is the whole map, whose masks are then all empty.
    """
    kernel = np.ones((3, 3), dtype=np.uint8)
    peak = (m8 == cv2.dilate(m8, kernel)) & (m8 > 0)
    # Pixels of S equal to their highest neighbour outside S.
    spill = (cv2.dilate(m8 * ~peak, kernel) == m8) & peak
    num, labels = cv2.connectedComponents(
        peak.view(np.uint8), connectivity=8, ltype=cv2.CV_32S)
    where = np.flatnonzero(peak)
    label = labels.reshape(-1)[where]
    spilled = np.zeros(num, dtype=bool)
    spilled[label[spill.reshape(-1)[where]]] = True
    value = np.zeros(num, dtype=np.int64)
    value[label] = m8.reshape(-1)[where]
    maxima = value[1:][~spilled[1:]]
    return np.concatenate([[0], np.cumsum(np.bincount(maxima, minlength=256))])


class _Plan(NamedTuple):
    """What one map needs traced: the uint8 map; per distinct non-empty
    mask, in decreasing cut order, its crop ``(cut, top, bottom, left,
    right)`` and the reference box of its pixels' bounding rectangle;
    whether an empty mask comes first; the distinct mask of each threshold;
    and, for chaining (see :func:`_trace`), :func:`_maxima_below` or None.
    """
    m8: np.ndarray
    crops: List[Tuple[int, int, int, int, int]]
    mask_boxes: List[List[int]]
    empty: int
    inverse: np.ndarray
    maxima_below: Optional[np.ndarray]


def _plan(m: np.ndarray, taus: np.ndarray, chain: bool) -> _Plan:
    """Distinct masks of one map over the thresholds, and their crops."""
    m8 = _to_uint8(m)
    height, width = m8.shape
    cuts = _cuts(m8, taus)
    # The masks are nested, so cuts keeping as many pixels give equal masks.
    kept = _pixels_above(m8)[np.clip(cuts, -1, 255) + 1]
    uniq, first, inverse = np.unique(
        kept, return_index=True, return_inverse=True)
    live_cuts = cuts[first[uniq > 0]]
    y0, y1 = _first_last(m8.max(axis=1), live_cuts)
    x0, x1 = _first_last(m8.max(axis=0), live_cuts)
    # Grow by one pixel so the crop's edge is background or the map's edge.
    crops = list(
        zip(live_cuts.tolist(),
            np.maximum(y0 - 1, 0).tolist(),
            np.minimum(y1 + 2, height).tolist(),
            np.maximum(x0 - 1, 0).tolist(),
            np.minimum(x1 + 2, width).tolist()))
    # boundingRect of the pixels: (x0, y0, x1 - x0 + 1, y1 - y0 + 1).
    mask_boxes = np.stack([
        x0, y0,
        np.minimum(x1 + 1, width - 1),
        np.minimum(y1 + 1, height - 1)
    ], axis=1).tolist()
    return _Plan(m8, crops, mask_boxes, int(uniq[0] == 0),
                 inverse.reshape(-1), _maxima_below(m8) if chain else None)


def _trace(m8: np.ndarray, crops: Sequence[Tuple[int, int, int, int, int]],
           mask_boxes: Sequence[List[int]], maxima_below: Optional[np.ndarray],
           largest: bool, every: bool) -> Tuple[list, list]:
    """Boxes of each crop's mask: the largest contour's (a list) and every
    contour's (an int64[K, 4] array), in map pixels.

    The crops must come in decreasing cut order. With ``maxima_below`` (in
    largest-contour mode only), a mask is not traced when a higher cut's
    mask has a single outermost component and no regional maximum lies
    between the two cuts: its box is then its pixels' (module docstring).
    """
    height, width = m8.shape
    # Without `every`, only outer contours of outermost components can be
    # the largest (module docstring): RETR_EXTERNAL lists just those.
    mode = cv2.RETR_TREE if every else cv2.RETR_EXTERNAL
    # One buffer for all binary masks, instead of fresh memory per mask.
    buffer = np.empty(m8.size, dtype=np.uint8)
    largest_boxes, every_boxes = [], []
    # Maxima below the last cut whose mask has one outermost component.
    chained = None
    for (cut, top, bottom, left, right), box in zip(crops, mask_boxes):
        if maxima_below is not None:
            below = int(maxima_below[max(cut, -1) + 1])
            if below == chained:
                largest_boxes.append(box)
                continue
        binary = buffer[:(bottom - top) * (right - left)].reshape(
            bottom - top, right - left)
        cv2.threshold(
            m8[top:bottom, left:right],
            cut,
            255,
            cv2.THRESH_BINARY,
            dst=binary)
        contours = cv2.findContours(binary, mode, cv2.CHAIN_APPROX_SIMPLE)[0]
        if largest:
            x, y, w, h = cv2.boundingRect(_largest_contour(contours))
            largest_boxes.append(
                _rect_to_box(x + left, y + top, w, h, width, height))
        if every:
            every_boxes.append(_all_boxes(contours, left, top, width, height))
        if maxima_below is not None:
            chained = below if len(contours) == 1 else None
    return largest_boxes, every_boxes


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
        chain = largest and not every
        plans = [_plan(m, taus, chain) for m in maps]
        # Each map's crops are dealt round-robin to `chunks` jobs, so that
        # threads share the costly low thresholds even for a single map.
        chunks = max(num_threads, 1)
        jobs = [(p.m8, p.crops[j::chunks], p.mask_boxes[j::chunks],
                 p.maxima_below, largest, every) for p in plans
                for j in range(chunks)]
        if chunks > 1:
            with ThreadPoolExecutor(chunks) as pool:
                traced = list(pool.map(lambda job: _trace(*job), jobs))
        else:
            traced = [_trace(*job) for job in jobs]
        for n, plan in enumerate(plans):
            merged = [[None] * len(plan.crops), [None] * len(plan.crops)]
            for j, done in enumerate(traced[n * chunks:(n + 1) * chunks]):
                for kind, wanted in enumerate((largest, every)):
                    if wanted:
                        merged[kind][j::chunks] = done[kind]
            boxes, sets = _assemble(plan, merged[0] if largest else None,
                                    merged[1] if every else None)
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
        num_threads (int): Threads sharing the maps (OpenCV releases the
            GIL while it traces contours). Defaults to 1: the caller's
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
