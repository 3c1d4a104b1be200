"""Which nested masks of one map the largest contour needs traced.

The masks ``m8 > cut`` of one uint8 map are nested: a lower cut's mask
holds every higher cut's. Contour tracing (``cv2.findContours``) is the
cost of the box sweep, and the largest-contour mode can skip most of it.
Call a *segment* a run of cuts with no regional maximum of the map in
between. Within a segment, every component of a lower mask holds a
component of every higher mask (its highest plateau is a regional maximum,
above the segment's top cut), so (rules 1 and 2; rule 3 holds across
segments):

1. the number of outermost components never grows downwards: a segment is
   traced at its top; if that mask has one outermost component, so have
   all (the largest contour's box is then the bounding rectangle of the
   mask's pixels); otherwise its bottom mask is traced and, if that has
   one, a bisection finds the last mask with several;
2. between two traced masks ``p`` (higher cut) and ``q`` (lower) of a
   segment, the masks in between need no trace when ``p``'s largest
   contour provably stays the largest. Each of their components lies in
   one outermost component of ``q`` (inside its outer contour's polygon;
   those polygons are disjoint), and its contour area is at most that
   component's: ``cv2.contourArea`` of an outer contour is the area of the
   polygon through its pixels' centres, holes included, which can only
   grow with the component (tested). If ``q``'s component ``Q`` holding
   ``p``'s largest component holds no other outermost component of ``p``,
   then in every mask in between ``Q`` holds one outermost component (each
   holds one of ``p``'s), of area at least ``p``'s largest. When that beats
   every other component of ``q``, it is the largest contour, and its box
   is the bounding rectangle of the mask's pixels inside ``Q``'s polygon
   (:func:`pixel_boxes_inside`; whatever else lies there sits in its
   holes). Otherwise the middle mask is traced and both halves are tried
   again.

3. across segments: if the largest component ``M`` of a traced mask ``p``
   has a contour area above half that of its bounding rectangle ``R``
   (``(w - 1) * (h - 1)``, the rectangle through the pixel centres), every
   lower mask whose pixels' bounding rectangle is ``R`` has ``R`` as its
   box. Its component holding ``M`` spans ``R`` (it holds ``M`` and lies
   in the mask), so no other component encloses it (that one would need a
   pixel outside ``R``). Every other outermost component's polygon then
   lies in ``R`` beside it, with less than half of ``R``'s area, while its
   own is at least ``M``'s: it is the largest contour, of rectangle ``R``.
   Low cuts, where the background joins into one component spanning the
   map, are settled so.

On a trained model's smooth maps most masks with several components (an
object and a weaker one) are settled by rule 2 from a few traces.
"""
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

try:
    from mmc2am.functional._outer_contours import trace_outer
except ImportError:  # not built (no C compiler): OpenCV traces
    trace_outer = None

# (cut, top, bottom, left, right): a mask's cut and its window in the map,
# the bounding rectangle of its pixels grown by one pixel (clipped).
Crop = Tuple[int, int, int, int, int]
# (x0, y0, x1, y1): a rectangle of pixels, corners included.
Rect = Tuple[int, int, int, int]


class Region(NamedTuple):
    """Where the largest component of a mask settled by rule 2 lies: inside
    ``contour``, the outer contour (int32[P, 1, 2], map pixels) of a lower
    mask's component; ``alone`` when no other component of that mask
    reaches into the contour's bounding rectangle (the polygon then needs
    no filling)."""
    contour: np.ndarray
    alone: bool


# From this many contours on, their areas are computed in one numpy pass
# instead of one cv2.contourArea call each (measured break-even point).
VECTORISE_AREAS_FROM = 160

# Masks with more outermost components than this are traced one by one
# instead of being settled by rule 2 (noisy maps give hundreds of specks).
MAX_COMPONENTS = 8


class MaskTracer:
    """Contours of the masks ``m8 > cut`` of one map, each traced once, in
    its window.

    Outer contours of the outermost components (the default) come from
    :mod:`mmc2am.functional._outer_contours` when it is built (setup.py
    compiles it where a C compiler is found): the very contours of
    ``cv2.findContours(RETR_EXTERNAL, CHAIN_APPROX_SIMPLE)``, with their
    areas and rectangles, in about half the time. Otherwise OpenCV traces
    them.

    Args:
        m8 (np.ndarray[H, W]): The uint8 map.
        crops (Sequence[tuple]): Per mask ``(cut, top, bottom, left,
            right)``, see :data:`Crop`.
        tree (bool): Every contour (``RETR_TREE``) instead of the outer
            contours of the outermost components (``RETR_EXTERNAL``).
            Defaults to False.
        compiled (bool): Trace outer contours with the compiled tracer when
            it is built. Defaults to True.
    """

    def __init__(self,
                 m8: np.ndarray,
                 crops: Sequence[Crop],
                 tree: bool = False,
                 compiled: bool = True) -> None:
        self.m8 = np.ascontiguousarray(m8)
        self.crops = crops
        self.mode = cv2.RETR_TREE if tree else cv2.RETR_EXTERNAL
        self.compiled = compiled and not tree and trace_outer is not None
        # One buffer for all binary windows, instead of fresh memory each
        # (the compiled tracer's windows have a one-pixel frame).
        height, width = m8.shape
        self._buffer = np.empty((height + 2) * (width + 2), dtype=np.uint8)
        self._contours: Dict[int, List[np.ndarray]] = {}
        self._areas: Dict[int, List[float]] = {}
        self._rects: Dict[int, List[Tuple[int, int, int, int]]] = {}
        self._largest: Dict[int, int] = {}

    def areas(self, index: int) -> List[float]:
        """``cv2.contourArea`` of each contour of mask ``index``."""
        if index not in self._areas:
            self._areas[index] = [cv2.contourArea(c) for c in self(index)]
        return self._areas[index]

    def rect(self, index: int, contour: int) -> Tuple[int, int, int, int]:
        """``cv2.boundingRect`` ``(x, y, w, h)`` of contour ``contour`` of
        mask ``index``."""
        if index in self._rects:
            return self._rects[index][contour]
        return cv2.boundingRect(self(index)[contour])

    def largest(self, index: int) -> int:
        """Index of the first contour of largest area of mask ``index``
        (:func:`largest_contour_index`), which must have a contour."""
        if index not in self._largest:
            contours = self(index)
            areas = (
                self.areas(index) if index in self._areas
                or len(contours) < VECTORISE_AREAS_FROM else None)
            self._largest[index] = largest_contour_index(contours, areas)
        return self._largest[index]

    def traced(self, index: int) -> bool:
        """Whether mask ``index`` has been traced."""
        return index in self._contours

    def __call__(self, index: int) -> List[np.ndarray]:
        """Contours (int32[P, 1, 2], map pixels, OpenCV's order) of mask
        ``index``."""
        if index not in self._contours:
            cut, top, bottom, left, right = self.crops[index]
            if self.compiled and cut >= 0:
                self._trace_compiled(index, cut, top, bottom, left, right)
            else:
                self._trace_opencv(index, cut, top, bottom, left, right)
        return self._contours[index]

    def _trace_compiled(self, index: int, cut: int, top: int, bottom: int,
                        left: int, right: int) -> None:
        xy, found = trace_outer(self.m8, top, bottom, left, right, cut,
                                self._buffer)
        points = np.frombuffer(xy, dtype=np.int32).reshape(-1, 1, 2)
        self._contours[index] = [points[f:f + n] for f, n, _, _ in found]
        self._areas[index] = [area for _, _, area, _ in found]
        self._rects[index] = [rect for _, _, _, rect in found]

    def _trace_opencv(self, index: int, cut: int, top: int, bottom: int,
                      left: int, right: int) -> None:
        binary = self._buffer[:(bottom - top) * (right - left)].reshape(
            bottom - top, right - left)
        cv2.threshold(
            self.m8[top:bottom, left:right],
            cut,
            255,
            cv2.THRESH_BINARY,
            dst=binary)
        self._contours[index] = list(
            cv2.findContours(
                binary, self.mode, cv2.CHAIN_APPROX_SIMPLE,
                offset=(left, top))[0])


def contour_table(contours: Sequence[np.ndarray]
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


def largest_contour_index(contours: Sequence[np.ndarray],
                          areas: Optional[Sequence[float]] = None) -> int:
    """Index of the first contour of largest ``cv2.contourArea`` (the one
    Python's ``max`` picks); there must be one.

    Args:
        contours (Sequence[np.ndarray]): The contours.
        areas (Sequence[float], optional): Their ``cv2.contourArea``, if
            known. Defaults to None: computed here.
    """
    if len(contours) == 1:
        return 0
    if areas is not None or len(contours) < VECTORISE_AREAS_FROM:
        if areas is None:
            areas = [cv2.contourArea(c) for c in contours]
        return max(range(len(areas)), key=areas.__getitem__)
    points, starts, lengths = contour_table(contours)
    # Shoelace sums, each point with its predecessor in its own contour;
    # integer arithmetic gives exactly cv2.contourArea's (doubled) sums.
    prev = np.arange(-1, len(points) - 1)
    prev[starts] = starts + lengths - 1
    x, y = points[:, 0], points[:, 1]
    cross = x[prev] * y - y[prev] * x
    return int(np.argmax(np.abs(np.add.reduceat(cross, starts))))


def _enclosing(point: np.ndarray, contours: Sequence[np.ndarray]) -> int:
    """Index of the outer contour whose polygon holds ``point`` (on its
    edge or inside), -1 if none."""
    xy = (float(point[0]), float(point[1]))
    for k, c in enumerate(contours):
        if cv2.pointPolygonTest(c, xy, False) >= 0:
            return k
    return -1


def _dominant_component(tracer: MaskTracer, higher: int,
                        lower: int) -> Optional[int]:
    """Rule 2 of the module docstring between two traced masks of a
    segment: the index of the lower mask's outermost contour whose
    component holds the largest contour of every mask in between, or None
    when that is not proven."""
    high, low = tracer(higher), tracer(lower)
    if len(low) > MAX_COMPONENTS or len(high) > MAX_COMPONENTS:
        return None
    best = tracer.largest(higher)
    best_area = tracer.areas(higher)[best]
    # Each higher component lies in one lower outermost component: the one
    # whose outer polygon holds its pixels (outermost polygons are
    # disjoint).
    main = _enclosing(high[best][0, 0], low)
    if main < 0:
        return None
    for k, area in enumerate(tracer.areas(lower)):
        if k != main and not best_area > area:
            return None
    for k, c in enumerate(high):
        if k != best and _enclosing(c[0, 0], low) == main:
            return None
    return main


def _region(tracer: MaskTracer, index: int, main: int) -> Region:
    """The :class:`Region` of outermost contour ``main`` of traced mask
    ``index``."""
    contours = tracer(index)
    x0, y0, w, h = tracer.rect(index, main)
    alone = True
    for k in range(len(contours)):
        if k != main:
            x, y, cw, ch = tracer.rect(index, k)
            if x < x0 + w and x0 < x + cw and y < y0 + h and y0 < y + ch:
                alone = False
                break
    return Region(contours[main], alone)


def _covering_rect(tracer: MaskTracer, index: int) -> Optional[Rect]:
    """Rule 3 of the module docstring: the bounding rectangle of traced
    mask ``index``'s largest component when that component's contour area
    is more than half its rectangle's, else None."""
    contours = tracer(index)
    if len(contours) > MAX_COMPONENTS:
        return None
    best = tracer.largest(index)
    x, y, w, h = tracer.rect(index, best)
    if not 2 * tracer.areas(index)[best] > (w - 1) * (h - 1):
        return None
    return (x, y, x + w - 1, y + h - 1)


def largest_contour_masks(
    tracer: MaskTracer, segment_keys: Sequence[int],
    mask_rects: Sequence[Rect]
) -> List[Union[None, Region, List[np.ndarray]]]:
    """How to get the largest contour's box of every mask.

    Args:
        tracer (MaskTracer): The tracer of the masks, which come in
            decreasing cut order.
        segment_keys (Sequence[int]): One value per mask; consecutive masks
            with the same value must have no regional maximum of the map
            between their cuts (e.g. a count of a superset of the maxima
            below the cut).
        mask_rects (Sequence[tuple]): Per mask, the bounding rectangle
            ``(x0, y0, x1, y1)`` of its pixels.

    Returns:
        list: Per mask, None when the box is that of its pixels (one
        outermost component, or rule 3); a :class:`Region` when the largest
        contour is that of the only outermost component inside a lower
        mask's contour (the box is the bounding rectangle of the mask's
        pixels there, :func:`pixel_boxes_inside`); else the mask's
        outermost contours (list, map pixels, OpenCV's order).
    """
    n = len(segment_keys)
    result: List[Union[None, Region, List[np.ndarray]]] = [None] * n
    # Rule 3: the rectangle a traced mask p covers with lies inside p's
    # mask rectangle, which lies inside that of every mask below. So p can
    # only cover masks of its own run of equal mask rectangles (consecutive,
    # as the rectangles only grow downwards).
    run_start, run_end = list(range(n)), list(range(n))
    for i in range(1, n):
        if mask_rects[i] == mask_rects[i - 1]:
            run_start[i] = run_start[i - 1]
    for i in range(n - 2, -1, -1):
        if mask_rects[i] == mask_rects[i + 1]:
            run_end[i] = run_end[i + 1]
    covers: Dict[int, Optional[Rect]] = {}

    def covered(index: int) -> bool:
        """Whether rule 3 settles the mask from a traced mask above it."""
        for p in range(run_start[index], index):
            if tracer.traced(p):
                if p not in covers:
                    covers[p] = _covering_rect(tracer, p)
                if covers[p] == mask_rects[index]:
                    return True
        return False

    def settle(p: int, q: int) -> None:
        """Masks strictly between the traced masks p and q."""
        if q - p < 2:
            return
        main = _dominant_component(tracer, p, q)
        if main is not None:
            result[p + 1:q] = [_region(tracer, q, main)] * (q - p - 1)
            return
        mid = (p + q) // 2
        result[mid] = tracer(mid)
        settle(p, mid)
        settle(mid, q)

    start = 0
    for i in range(1, n + 1):
        if i < n and segment_keys[i] == segment_keys[start]:
            continue
        first, last = start, i - 1
        start = i
        # Rule 3 settles a prefix of the segment: the masks that share the
        # rectangle of a traced mask above them, this segment's top masks
        # included.
        while first <= last:
            if covered(first):
                first = run_end[first] + 1
            elif (first < last and len(tracer(first)) > 1
                  and covered(first + 1)):
                result[first] = tracer(first)
                first = run_end[first + 1] + 1
            else:
                break
        if first > last or len(tracer(first)) == 1:
            continue  # rule 1: one outermost component throughout
        if len(tracer(last)) > 1:
            multi = last
        else:
            multi, single = first, last
            while single - multi > 1:
                mid = (multi + single) // 2
                if len(tracer(mid)) > 1:
                    multi = mid
                else:
                    single = mid
        result[first] = tracer(first)
        result[multi] = tracer(multi)
        settle(first, multi)
    return result


def pixel_boxes_inside(m8: np.ndarray, cuts: Sequence[int],
                       regions: Sequence[Region]) -> List[Rect]:
    """Bounding rectangle of the pixels above each cut inside each region's
    contour (its polygon filled, holes included).

    Args:
        m8 (np.ndarray[H, W]): The uint8 map.
        cuts (Sequence[int]): One cut per region; each must leave a pixel
            inside its region.
        regions (Sequence[Region]): The regions; the same one may come
            several times.

    Returns:
        list[tuple]: ``(x0, y0, x1, y1)`` per cut, corners included.
    """
    boxes: List[Rect] = [(0, 0, 0, 0)] * len(cuts)
    groups: Dict[int, List[int]] = {}
    for i, region in enumerate(regions):
        groups.setdefault(id(region), []).append(i)
    for members in groups.values():
        contour, alone = regions[members[0]]
        x, y, w, h = cv2.boundingRect(contour)
        pixels = m8[y:y + h, x:x + w]
        if not alone:  # only what lies inside the polygon
            inside = np.zeros((h, w), dtype=np.uint8)
            cv2.drawContours(
                inside, [contour],
                0,
                1,
                thickness=cv2.FILLED,
                offset=(-x, -y))
            pixels = pixels * inside
        # Rows, then columns, above each cut (few cuts, short profiles).
        group_cuts = np.array([cuts[i] for i in members])
        profiles = np.concatenate((pixels.max(axis=1), pixels.max(axis=0)))
        above = profiles[None, :] > group_cuts[:, None]
        y0 = above[:, :h].argmax(axis=1) + y
        y1 = y + h - 1 - above[:, h - 1::-1].argmax(axis=1)
        x0 = above[:, h:].argmax(axis=1) + x
        x1 = x + w - 1 - above[:, :h - 1:-1].argmax(axis=1)
        for k, i in enumerate(members):
            boxes[i] = (int(x0[k]), int(y0[k]), int(x1[k]), int(y1[k]))
    return boxes


def first_last(profile: np.ndarray,
               cuts: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """First and last index where ``profile > cut``, for every cut (each
    cut must leave at least one index).

    Args:
        profile (np.ndarray[L]): Values, e.g. a map's row maxima.
        cuts (np.ndarray[C]): Integer cuts.

    Returns:
        tuple: int64[C] first and last indices.
    """
    # The running maxima from either end are sorted: a binary search finds
    # where each first exceeds the cut.
    first = np.searchsorted(np.maximum.accumulate(profile), cuts, 'right')
    from_end = np.searchsorted(
        np.maximum.accumulate(profile[::-1]), cuts, 'right')
    return first, len(profile) - 1 - from_end
