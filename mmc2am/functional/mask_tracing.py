"""Which nested masks of one map the largest contour needs traced.

The masks ``m8 > cut`` of one uint8 map are nested: a lower cut's mask
holds every higher cut's. Contour tracing (``cv2.findContours``) is the
cost of the box sweep, and the largest-contour mode can skip most of it.
The masks are visited from the highest cut down. Facts used below (``P_c``
is the component of mask ``c`` grown from a component ``P`` of a higher
mask):

- every component of a mask holds a regional maximum of the map (its
  highest plateau), so a component with no component of a higher mask
  ``p`` inside it was *born* below ``p``: it holds a candidate peak
  (:class:`Peaks`) of value between the two cuts;
- a component is inside the outer polygon of another (``cv2``'s outer
  contour through its pixels' centres) exactly when it lies in one of its
  holes, and then it is not outermost; ``P_c``'s polygon holds ``P``'s;
- ``cv2.contourArea`` of an outer contour is the area of that polygon,
  holes included: it only grows with the component (tested), and the
  outermost components inside one polygon have disjoint polygons, whose
  areas add up to at most its own.

Rules, each settling the masks strictly between a traced mask ``p`` and a
lower mask ``q``:

1. ``p`` has one outermost component ``P``: every mask below it keeps one
   outermost component (``P_c``; everything else lies in its holes) until
   a peak outside ``P``'s polygon is born. Its box is the bounding
   rectangle of the mask's pixels. The first mask holding such a peak is
   traced and the rules go on from there.
2. ``q`` is traced, ``p``'s largest component ``P`` lies in ``q``'s
   component ``Q`` with no other outermost component of ``p``, and ``P``'s
   area beats every other component of ``q``: then, until a peak is born
   inside ``Q``'s polygon but outside ``P``'s, ``P_c`` is the only
   outermost component inside ``Q``'s polygon, of area at least ``P``'s,
   which beats every component elsewhere (each lies in another component
   of ``q``, of no larger area). It is the largest contour, and its box is
   the bounding rectangle of the mask's pixels inside ``Q``'s polygon
   (:func:`pixel_boxes_inside`; what else lies there sits in its holes).
   The first mask holding such a peak is traced, and so on.
3. ``q`` is traced and the bounding rectangle of ``P`` (``p``'s largest)
   is that of ``Q``: ``P_c``'s rectangle is squeezed between them. If
   ``P``'s area beats every other component of ``q`` and half of ``Q``'s,
   ``P_c`` stays the largest whatever else lies in ``Q`` (births, merges),
   and the box is that rectangle.

Otherwise the middle mask is traced and both halves are tried again; the
last mask is traced when a rule needs a lower mask. On a trained model's
smooth maps most masks are settled this way from a few traces; masks of
low cuts, where the background breaks into many islands that are born and
merge, are mostly traced.
"""
from bisect import bisect_right
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

# (cut, top, bottom, left, right): a mask's cut and its window in the map,
# the bounding rectangle of its pixels grown by one pixel (clipped).
Crop = Tuple[int, int, int, int, int]
# (x0, y0, x1, y1): a rectangle of pixels, corners included.
Rect = Tuple[int, int, int, int]
# (x, y, w, h): a cv2.boundingRect.
CvRect = Tuple[int, int, int, int]


class Region(NamedTuple):
    """Where the largest component of a mask settled by rule 2 lies: inside
    ``contour``, the outer contour (int32[P, 1, 2], map pixels) of a lower
    mask's component; ``alone`` when no other component of that mask
    reaches into the contour's bounding rectangle (the polygon then needs
    no filling)."""
    contour: np.ndarray
    alone: bool


class LargestRect(NamedTuple):
    """The ``cv2.boundingRect`` of a mask's largest contour, known."""
    x: int
    y: int
    w: int
    h: int


# Masks with more outermost components than this are traced one by one
# instead of being settled by rule 2 (noisy maps give hundreds of specks).
MAX_COMPONENTS = 8


class MaskTracer:
    """Contours of the masks ``m8 > cut`` of one map, each traced once, in
    its window.

    Args:
        m8 (np.ndarray[H, W]): The uint8 map.
        crops (Sequence[tuple]): Per mask ``(cut, top, bottom, left,
            right)``, see :data:`Crop`.
        tree (bool): Every contour (``RETR_TREE``) instead of the outer
            contours of the outermost components (``RETR_EXTERNAL``).
            Defaults to False.
    """

    def __init__(self,
                 m8: np.ndarray,
                 crops: Sequence[Crop],
                 tree: bool = False) -> None:
        self.m8 = m8
        self.crops = crops
        self.mode = cv2.RETR_TREE if tree else cv2.RETR_EXTERNAL
        # One buffer for all binary windows, instead of fresh memory each.
        self._buffer = np.empty(m8.size, dtype=np.uint8)
        self._contours: Dict[int, List[np.ndarray]] = {}
        self._areas: Dict[int, List[float]] = {}
        self._rects: Dict[int, List[CvRect]] = {}
        self._largest: Dict[int, Tuple[int, float, float]] = {}

    def areas(self, index: int) -> List[float]:
        """``cv2.contourArea`` of each contour of mask ``index``."""
        if index not in self._areas:
            self._areas[index] = [cv2.contourArea(c) for c in self(index)]
        return self._areas[index]

    def largest(self, index: int) -> Tuple[int, float, float]:
        """The index and area of the first contour of largest area of mask
        ``index``, and the largest area among its other contours (-1 when
        there is none)."""
        if index not in self._largest:
            areas = self.areas(index)
            best = max(range(len(areas)), key=areas.__getitem__)
            second = max((a for k, a in enumerate(areas) if k != best),
                         default=-1.0)
            self._largest[index] = best, areas[best], second
        return self._largest[index]

    def rects(self, index: int) -> List[CvRect]:
        """``cv2.boundingRect`` ``(x, y, w, h)`` of each contour of mask
        ``index``."""
        if index not in self._rects:
            self._rects[index] = [cv2.boundingRect(c) for c in self(index)]
        return self._rects[index]

    def __call__(self, index: int) -> List[np.ndarray]:
        """Contours (int32[P, 1, 2], map pixels, OpenCV's order) of mask
        ``index``."""
        if index not in self._contours:
            cut, top, bottom, left, right = self.crops[index]
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
                    binary,
                    self.mode,
                    cv2.CHAIN_APPROX_SIMPLE,
                    offset=(left, top))[0])
        return self._contours[index]


Point = Tuple[float, float]


class Peaks(NamedTuple):
    """Candidate regional maxima of a uint8 map: pixels that hold every
    regional maximum (an 8-connected plateau whose neighbours are all
    lower), and maybe more (see :func:`mmc2am.functional.boxes.map_peaks`).

    Attributes:
        values (list[int]): Their uint8 values, ascending.
        points (list[tuple]): ``(x, y)`` of each.
    """
    values: List[int]
    points: List[Point]

    def born_between(self, low: int, high: int) -> range:
        """Indices of the peaks with ``low < value <= high``, highest value
        first: those a mask at cut ``low`` holds and one at cut ``high``
        does not."""
        return range(
            bisect_right(self.values, high) - 1,
            bisect_right(self.values, low) - 1, -1)


def _holds(contour: np.ndarray, rect: CvRect, point: Point) -> bool:
    """Whether ``point`` lies inside or on the polygon of ``contour``, whose
    ``cv2.boundingRect`` is ``rect``."""
    x, y, w, h = rect
    return (x <= point[0] < x + w and y <= point[1] < y + h
            and cv2.pointPolygonTest(contour, point, False) >= 0)


def _enclosing(point: Point, contours: Sequence[np.ndarray],
               rects: Sequence[CvRect]) -> int:
    """Index of the outer contour whose polygon holds ``point`` (on its
    edge or inside), -1 if none."""
    for k, (contour, rect) in enumerate(zip(contours, rects)):
        if _holds(contour, rect, point):
            return k
    return -1


def _first_point(contour: np.ndarray) -> Point:
    """The first point of a contour, as floats."""
    return float(contour[0, 0, 0]), float(contour[0, 0, 1])


def _dominant_component(tracer: MaskTracer, higher: int,
                        lower: int) -> Optional[Tuple[int, int]]:
    """Rule 2 of the module docstring between two traced masks, births
    aside: ``(main, best)`` where ``best`` indexes the higher mask's largest
    contour and ``main`` the lower mask's outermost contour around it, when
    that component's area is above every other one of the lower mask and
    it holds no other outermost component of the higher mask; else None.
    """
    high, low = tracer(higher), tracer(lower)
    if len(low) > MAX_COMPONENTS or len(high) > MAX_COMPONENTS:
        return None
    best, area, _ = tracer.largest(higher)
    if not area > tracer.largest(lower)[2]:
        return None  # an other lower component is at least as large
    # Each higher component lies in one lower outermost component: the one
    # whose outer polygon holds its pixels (outermost polygons are
    # disjoint).
    low_rects = tracer.rects(lower)
    main = _enclosing(_first_point(high[best]), low, low_rects)
    if main < 0:
        return None
    for k, other in enumerate(tracer.areas(lower)):
        if k != main and not area > other:
            return None
    for k, c in enumerate(high):
        if k != best and _enclosing(_first_point(c), low, low_rects) == main:
            return None
    return main, best


def _saturated_box(tracer: MaskTracer, higher: int,
                   lower: int) -> Optional[LargestRect]:
    """Rule 3 of the module docstring between two traced masks: the
    rectangle of the higher mask's largest contour when that contour stays
    the largest and its rectangle cannot change down to the lower mask;
    else None."""
    low = tracer(lower)
    if len(low) > MAX_COMPONENTS:
        return None
    best, area, _ = tracer.largest(higher)
    rect = tracer.rects(higher)[best]
    low_rects = tracer.rects(lower)
    if rect not in low_rects or not area > tracer.largest(lower)[2]:
        return None
    main = _enclosing(_first_point(tracer(higher)[best]), low, low_rects)
    if main < 0 or low_rects[main] != rect:
        return None
    low_areas = tracer.areas(lower)
    # What else lies inside the lower component shares its area.
    if not 2 * area > low_areas[main]:
        return None
    for k, other in enumerate(low_areas):
        if k != main and not area > other:
            return None
    return LargestRect(*rect)


def largest_contour_masks(
        tracer: MaskTracer,
        peaks: Peaks) -> List[Union[None, Region, LargestRect]]:
    """How to get the largest contour's box of every mask.

    Args:
        tracer (MaskTracer): The tracer of the masks, which come in
            decreasing cut order.
        peaks (Peaks): Candidate regional maxima of the map.

    Returns:
        list: Per mask, None when it has one outermost component (the box
        is its pixels'); a :class:`Region` when the largest contour is that
        of the only outermost component inside a lower mask's contour (the
        box is the bounding rectangle of the mask's pixels there,
        :func:`pixel_boxes_inside`); else the :class:`LargestRect` of its
        largest contour (a traced mask's, or rule 3's).
    """
    n = len(tracer.crops)
    cuts = [crop[0] for crop in tracer.crops]
    neg_cuts = [-cut for cut in cuts]  # ascending, for bisect
    values, points = peaks
    result: List[Union[None, Region, LargestRect]] = [None] * n
    regions: Dict[Tuple[int, int], Region] = {}

    def trace(i: int) -> None:
        contours = tracer(i)
        if len(contours) > 1:
            result[i] = LargestRect(*tracer.rects(i)[tracer.largest(i)[0]])

    def first_below(value: int) -> int:
        """The first mask that holds a peak of this value."""
        return bisect_right(neg_cuts, -value)

    def settle(p: int, q: int) -> None:
        """Masks strictly between the traced mask p and mask q (traced;
        ``q == n``: the end)."""
        while q - p >= 2:
            # The peaks of components born in masks p + 1 .. q - 1.
            births = peaks.born_between(cuts[q - 1], cuts[p])
            high = tracer(p)
            if q < n:
                fixed = _saturated_box(tracer, p, q)
                if fixed is not None:
                    result[p + 1:q] = [fixed] * (q - p - 1)
                    return
            if len(high) == 1:  # rule 1
                contour, rect = high[0], tracer.rects(p)[0]
                for k in births:
                    if not _holds(contour, rect, points[k]):
                        # One component while the cut is at least this
                        # birth's value; the first mask below is traced.
                        p = first_below(values[k])
                        trace(p)
                        break
                else:
                    return
                continue
            if q == n:
                trace(n - 1)
                q = n - 1
                continue
            found = _dominant_component(tracer, p, q)
            if found is None:
                mid = (p + q) // 2
                trace(mid)
                settle(p, mid)
                p = mid
                continue
            main, best = found
            low, low_rect = tracer(q)[main], tracer.rects(q)[main]
            high_rect = tracer.rects(p)[best]
            if (q, main) not in regions:
                regions[q, main] = _region(tracer, q, main)
            region = regions[q, main]
            # Born inside the lower mask's component and not in a hole of
            # the largest one: it may stand beside it until they merge.
            for k in births:
                point = points[k]
                if (_holds(low, low_rect, point)
                        and not _holds(high[best], high_rect, point)):
                    below = first_below(values[k])
                    result[p + 1:below] = [region] * (below - p - 1)
                    trace(below)
                    p = below
                    break
            else:
                result[p + 1:q] = [region] * (q - p - 1)
                return

    if n:
        trace(0)
        settle(0, n)
    return result


def _region(tracer: MaskTracer, index: int, main: int) -> Region:
    """The :class:`Region` of outermost contour ``main`` of mask
    ``index``."""
    rects = tracer.rects(index)
    x0, y0, w, h = rects[main]
    alone = True
    for k, (x, y, cw, ch) in enumerate(rects):
        if k != main and (x < x0 + w and x0 < x + cw and y < y0 + h
                          and y0 < y + ch):
            alone = False
            break
    return Region(tracer(index)[main], alone)


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
        group_cuts = np.array([cuts[i] for i in members])
        y0, y1 = first_last(pixels.max(axis=1), group_cuts)
        x0, x1 = first_last(pixels.max(axis=0), group_cuts)
        for k, i in enumerate(members):
            boxes[i] = (int(x0[k]) + x, int(y0[k]) + y, int(x1[k]) + x,
                        int(y1[k]) + y)
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
