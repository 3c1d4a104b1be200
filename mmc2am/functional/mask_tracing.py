"""Contours of the nested binary masks of one map, traced piece by piece.

The masks ``m8 > cut`` of one uint8 map are nested: a lower cut's mask
holds every higher cut's. So every connected component of a higher mask
(8-connected, as ``cv2.findContours`` sees the foreground), with its holes
and whatever lies in them, lies inside the bounding rectangle of one
outermost component of any lower mask. :class:`NestedMaskTracer` traces a
mask inside those rectangles of the nearest lower mask it traced, one
``cv2.findContours`` call per rectangle, instead of over the bounding
rectangle of all the mask's pixels: two objects far apart no longer make
it trace the empty space between them. Rectangles that come within one
pixel of each other are merged first, so each call's window (its rectangle
grown by one pixel, the background margin contour tracing needs) holds
whole components only.

The calls' contours are put back in the order of a single call over the
whole mask: OpenCV lists the outermost contours by the raster position of
their first point (the component's top-left pixel; reversed in OpenCV 4
and 5, which :data:`REVERSED_ORDER` probes once), each followed by the
contours nested in it (``RETR_TREE`` lists a depth-first walk). Within one
window the order is already OpenCV's, so only these blocks are sorted.

:func:`largest_contour_masks` decides which masks the largest-contour mode
must trace at all: between two cuts with no regional maximum of the map in
between, every component of the lower mask holds one of the higher mask's
(its highest plateau is above both cuts), so the number of outermost
components can only shrink as the cut goes down; a mask with one outermost
component needs no trace (its largest contour's box is its pixels').
"""
import bisect
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

# (cut, top, bottom, left, right): a mask's cut and its window in the map.
Crop = Tuple[int, int, int, int, int]
# [x0, y0, x1, y1]: a rectangle of pixels, corners included.
Rect = List[int]

# From this many outermost components on, a mask passes no rectangles to
# higher masks: they are traced in their own window (noisy maps give
# hundreds of specks, and a call per speck costs more than it saves).
MAX_RECTS = 8


def _reversed_order() -> bool:
    """Whether ``cv2.findContours`` lists outermost contours bottom-up
    (reverse raster order of their first points)."""
    probe = np.zeros((5, 5), dtype=np.uint8)
    probe[1, 1] = probe[3, 3] = 1
    contours = cv2.findContours(probe, cv2.RETR_EXTERNAL,
                                cv2.CHAIN_APPROX_SIMPLE)[0]
    return int(contours[0][0, 0, 1]) == 3


REVERSED_ORDER = _reversed_order()


def merge_rects(rects: Sequence[Rect]) -> List[Rect]:
    """Merge rectangles until none comes within one pixel of another.

    Two rectangles are merged (replaced by the rectangle around both) when
    one grown by a pixel on each side meets the other.

    Args:
        rects (Sequence[list[int]]): ``[x0, y0, x1, y1]``, corners included.

    Returns:
        list[list[int]]: Rectangles pairwise more than one pixel apart.
    """
    merged = [list(r) for r in rects]
    changed = True
    while changed:
        changed = False
        for i in range(len(merged)):
            a = merged[i]
            for j in range(i + 1, len(merged)):
                b = merged[j]
                if (a[0] <= b[2] + 1 and b[0] <= a[2] + 1
                        and a[1] <= b[3] + 1 and b[1] <= a[3] + 1):
                    merged[i] = [
                        min(a[0], b[0]),
                        min(a[1], b[1]),
                        max(a[2], b[2]),
                        max(a[3], b[3])
                    ]
                    del merged[j]
                    changed = True
                    break
            if changed:
                break
    return merged


class NestedMaskTracer:
    """Contours of the masks ``m8 > cut`` of one map, as one
    ``cv2.findContours`` call over the whole map lists them.

    Args:
        m8 (np.ndarray[H, W]): The uint8 map.
        crops (Sequence[tuple]): Per mask, in decreasing cut order,
            ``(cut, top, bottom, left, right)``: the window of the map
            holding the mask's pixels and a background margin of one pixel
            (clipped to the map).
        tree (bool): Trace every contour (``RETR_TREE``) instead of the
            outermost ones (``RETR_EXTERNAL``).
    """

    def __init__(self, m8: np.ndarray, crops: Sequence[Crop],
                 tree: bool) -> None:
        self.m8 = m8
        self.crops = crops
        self.mode = cv2.RETR_TREE if tree else cv2.RETR_EXTERNAL
        # One buffer for all binary windows, instead of fresh memory each.
        self._buffer = np.empty(m8.size, dtype=np.uint8)
        self._traced: List[int] = []  # sorted mask indices
        self._rects: Dict[int, Optional[List[Rect]]] = {}
        self._contours: Dict[int, List[np.ndarray]] = {}

    def __call__(self, index: int) -> List[np.ndarray]:
        """Contours (int32[P, 1, 2], map pixels) of mask ``index``."""
        if index in self._contours:
            return self._contours[index]
        cut, top, bottom, left, right = self.crops[index]
        # The nearest lower mask traced so far: the next larger index.
        pos = bisect.bisect_right(self._traced, index)
        rects = self._rects[self._traced[pos]] if pos < len(
            self._traced) else None
        if rects is None:
            windows = [(top, bottom, left, right)]
        else:
            windows = [(max(y0 - 1, top), min(y1 + 2, bottom),
                        max(x0 - 1, left), min(x1 + 2, right))
                       for x0, y0, x1, y1 in rects]
        blocks = []
        for w_top, w_bottom, w_left, w_right in windows:
            if w_top >= w_bottom or w_left >= w_right:
                continue
            blocks.extend(self._trace_window(cut, w_top, w_bottom, w_left,
                                             w_right))
        if len(windows) > 1 and len(blocks) > 1:
            blocks.sort(
                key=lambda block: (int(block[0][0, 0, 1]),
                                   int(block[0][0, 0, 0])),
                reverse=REVERSED_ORDER)
        contours = [c for block in blocks for c in block]
        self._contours[index] = contours
        self._rects[index] = self._outer_rects(blocks)
        bisect.insort(self._traced, index)
        return contours

    def _trace_window(self, cut: int, top: int, bottom: int, left: int,
                      right: int) -> List[List[np.ndarray]]:
        """Contours of the mask in one window, in map pixels, grouped in
        blocks: an outermost contour and the contours nested in it."""
        binary = self._buffer[:(bottom - top) * (right - left)].reshape(
            bottom - top, right - left)
        cv2.threshold(
            self.m8[top:bottom, left:right],
            cut,
            255,
            cv2.THRESH_BINARY,
            dst=binary)
        contours, hierarchy = cv2.findContours(
            binary, self.mode, cv2.CHAIN_APPROX_SIMPLE, offset=(left, top))
        if self.mode == cv2.RETR_EXTERNAL or len(contours) < 2:
            return [[c] for c in contours]
        # A depth-first list: each outermost contour opens a block.
        starts = np.flatnonzero(hierarchy[0][:, 3] < 0).tolist()
        ends = starts[1:] + [len(contours)]
        return [list(contours[s:e]) for s, e in zip(starts, ends)]

    @staticmethod
    def _outer_rects(blocks: List[List[np.ndarray]]) -> Optional[List[Rect]]:
        """Merged bounding rectangles of the outermost components, or None
        (trace in the mask's own window) when there are too many."""
        if len(blocks) > MAX_RECTS or not blocks:
            return None
        rects = []
        for block in blocks:
            x, y, w, h = cv2.boundingRect(block[0])
            rects.append([x, y, x + w - 1, y + h - 1])
        return merge_rects(rects) if len(rects) > 1 else rects


def largest_contour_masks(tracer: NestedMaskTracer,
                          segment_keys: Sequence[int]
                          ) -> List[Optional[List[np.ndarray]]]:
    """The outermost contours of the masks the largest contour depends on.

    Masks come in decreasing cut order; consecutive masks with the same
    ``segment_keys`` value must have no regional maximum of the map between
    their cuts (e.g. the key counts a superset of the maxima below the
    cut). Within such a segment the number of outermost components never
    grows downwards, so: the segment's top mask is traced; if it has one
    component, so have all; otherwise the bottom mask is traced, and, if
    that has one, a bisection finds the last mask with several. Masks with
    several are traced bottom-up, each inside the rectangles of the one
    below it. Segments are visited bottom-up for the same reason.

    Args:
        tracer (NestedMaskTracer): An outermost-contour tracer
            (``tree=False``) of the masks.
        segment_keys (Sequence[int]): One value per mask.

    Returns:
        list: Per mask its contours (map pixels, OpenCV's order) when it
        has several outermost components, None when it has one.
    """
    n = len(segment_keys)
    result: List[Optional[List[np.ndarray]]] = [None] * n
    segments = []
    start = 0
    for i in range(1, n + 1):
        if i == n or segment_keys[i] != segment_keys[start]:
            segments.append((start, i - 1))
            start = i
    for first, last in reversed(segments):
        if len(tracer(first)) == 1:
            continue
        # The last mask of the segment with several outermost components.
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
        for i in range(multi, first - 1, -1):
            result[i] = tracer(i)
    return result
