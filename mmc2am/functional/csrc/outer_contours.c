/*
 * Outer contours of the outermost components of a binary mask, exactly as
 * cv2.findContours(mask, RETR_EXTERNAL, CHAIN_APPROX_SIMPLE) returns them
 * (the same points, in the same order), with each contour's area and
 * bounding rectangle.
 *
 * The mask is `m8 > cut` inside a window of a uint8 map, held as one bit
 * per pixel with a background frame. Border following is Suzuki and Abe's
 * (1985). Only whether a border is an outer border of an outermost
 * component matters here, so instead of border numbers each visited pixel
 * keeps, in a byte image of marks, the class of the border that marked it:
 * "outermost" (the frame counts as one) or "inner" (a hole's border, or
 * any border inside one). A new outer border is outermost when the last
 * border the raster scan crossed is; a hole's border never is.
 *
 * Each step of a border reads the current pixel's 3x3 neighbourhood from
 * the bits and finds the next pixel in a table indexed by that code and
 * the direction the border came from.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Marks of visited pixels: the class of the marking border, and whether
 * the pixel's east neighbour was found to be background while following
 * it ("east0", Suzuki and Abe's negative mark). 0: not visited. */
enum {
    UNMARKED = 0,
    OUTERMOST = 1,
    OUTERMOST_EAST0 = 2,
    INNER = 3,
    INNER_EAST0 = 4,
};

/* Directions d: 0 E, 1 NE, 2 N, 3 NW, 4 W, 5 SW, 6 S, 7 SE (y grows
 * down): increasing d turns counterclockwise on screen. */
static const int DX[8] = {1, 1, 0, -1, -1, -1, 0, 1};
static const int DY[8] = {0, -1, -1, -1, 0, 1, 1, 1};

/* A neighbourhood code has 9 bits: the row above (x - 1, x, x + 1) in
 * bits 0-2, the pixel's own row in bits 3-5 and the row below in 6-8.
 * NEIGHBOUR_BIT[d]: the bit of the neighbour in direction d. */
static const int NEIGHBOUR_BIT[8] = {5, 2, 1, 0, 3, 6, 7, 8};

/* NEXT[code][d]: searching counterclockwise from direction d + 1 for a
 * foreground neighbour, the direction e found (d itself when there is no
 * other) in bits 0-2; in bit 3 whether the east neighbour was examined
 * (and so background) first; DX[e] + 1 in bits 4-5 and DY[e] + 1 in bits
 * 6-7. */
static uint8_t NEXT[512][8];

static void build_next_table(void) {
    for (int code = 0; code < 512; code++) {
        for (int d = 0; d < 8; d++) {
            int found = d, east0 = 0;
            for (int k = 1; k <= 8; k++) {
                int e = (d + k) & 7;
                if (code >> NEIGHBOUR_BIT[e] & 1) {
                    found = e;
                    break;
                }
                if (e == 0) east0 = 1;
            }
            NEXT[code][d] = (uint8_t)(found | east0 << 3 |
                                      (DX[found] + 1) << 4 |
                                      (DY[found] + 1) << 6);
        }
    }
}

/* The mask as bits: bit 8 + x of row 1 + y (little-endian bytes, `stride`
 * bytes per row) is window pixel (x, y). Rows 0 and h + 1 and the bits
 * around each row's pixels are background, the frame. In frame
 * coordinates (fx, fy) = (x + 1, y + 1), pixel (fx, fy) is bit fx + 7 of
 * row fy. */
typedef struct {
    uint8_t *bytes;
    Py_ssize_t stride;
    int words; /* 64-bit words per row */
} Bits;

/* The 9-bit neighbourhood code of frame pixel (x, y). */
static inline unsigned neighbourhood(const Bits *bits, int x, int y) {
    const uint8_t *p = bits->bytes + (size_t)(y - 1) * bits->stride +
                       ((x + 6) >> 3);
    const int shift = (x + 6) & 7;
    const Py_ssize_t s = bits->stride;
    unsigned up = (unsigned)p[0] | (unsigned)p[1] << 8;
    unsigned own = (unsigned)p[s] | (unsigned)p[s + 1] << 8;
    unsigned down = (unsigned)p[2 * s] | (unsigned)p[2 * s + 1] << 8;
    return (up >> shift & 7) | (own >> shift & 7) << 3 |
           (down >> shift & 7) << 6;
}

/* Growing array of (x, y) int32 pairs, with room for one more always. */
typedef struct {
    int32_t *xy;
    Py_ssize_t count, capacity;
} Points;

static int points_reserve(Points *p) {
    if (p->count + 1 < p->capacity) return 0;
    Py_ssize_t capacity = p->capacity ? 2 * p->capacity : 1024;
    int32_t *xy = realloc(p->xy, (size_t)capacity * 2 * sizeof(int32_t));
    if (!xy) return -1;
    p->xy = xy;
    p->capacity = capacity;
    return 0;
}

/* One kept contour: its points are xy[first .. first + count). */
typedef struct {
    Py_ssize_t first, count;
} Span;

typedef struct {
    Span *spans;
    Py_ssize_t count, capacity;
} Spans;

static int spans_push(Spans *s, Py_ssize_t first, Py_ssize_t count) {
    if (s->count == s->capacity) {
        Py_ssize_t capacity = s->capacity ? 2 * s->capacity : 16;
        Span *spans = realloc(s->spans, (size_t)capacity * sizeof(Span));
        if (!spans) return -1;
        s->spans = spans;
        s->capacity = capacity;
    }
    s->spans[s->count].first = first;
    s->spans[s->count].count = count;
    s->count++;
    return 0;
}

/*
 * Follows the border that starts at frame pixel (x, y), whose first search
 * begins clockwise from direction `from` (4 for an outer border, 0 for a
 * hole's), marking its pixels in `marks` (row stride W) with `seen` /
 * `seen_east0`. When `points` is given, appends the chain's direction
 * changes, shifted by (ox, oy) into map pixels. Returns -1 when out of
 * memory.
 */
static inline int follow(const Bits *bits, uint8_t *marks, Py_ssize_t W,
                         int x, int y, int from, uint8_t seen,
                         uint8_t seen_east0, Points *points, int ox,
                         int oy) {
    if (points) {
        if (points_reserve(points)) return -1;
        points->xy[2 * points->count] = x + ox;
        points->xy[2 * points->count + 1] = y + oy;
        points->count++;
    }
    /* Clockwise from `from` for the first foreground neighbour. */
    const unsigned around = neighbourhood(bits, x, y);
    int first = -1;
    for (int k = 0; k < 8; k++) {
        int d = (from - k) & 7;
        if (around >> NEIGHBOUR_BIT[d] & 1) {
            first = d;
            break;
        }
    }
    if (first < 0) { /* a lone pixel */
        marks[(Py_ssize_t)y * W + x] = seen_east0;
        return 0;
    }
    const int x0 = x, y0 = y;
    const int x1 = x + DX[first], y1 = y + DY[first];
    int came = first; /* direction from (x, y) to the previous pixel */
    int last = -1;    /* direction of the previous move */
    for (;;) {
        const unsigned next = NEXT[neighbourhood(bits, x, y)][came];
        const int d = next & 7;
        uint8_t *mark = marks + (Py_ssize_t)y * W + x;
        *mark = (next & 8) ? seen_east0 : (*mark ? *mark : seen);
        if (points) {
            /* Written always, kept where the direction changes. */
            if (points_reserve(points)) return -1;
            points->xy[2 * points->count] = x + ox;
            points->xy[2 * points->count + 1] = y + oy;
            points->count += d != last && last >= 0;
            last = d;
        }
        const int nx = x + (int)(next >> 4 & 3) - 1;
        const int ny = y + (int)(next >> 6) - 1;
        if (nx == x0 && ny == y0 && x == x1 && y == y1) return 0;
        x = nx;
        y = ny;
        came = (d + 4) & 7;
    }
}

static inline int lowest_bit(uint64_t v) {
#if defined(__GNUC__)
    return __builtin_ctzll(v);
#else
    int k = 0;
    while (!(v & 1)) {
        v >>= 1;
        k++;
    }
    return k;
#endif
}

static inline uint64_t load_word(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* First set bit at or after i in a row of `words` words, -1 if none. */
static inline int next_set(const uint8_t *row, int i, int words) {
    int k = i >> 6;
    if (k >= words) return -1;
    uint64_t v = load_word(row + 8 * k) & (~0ULL << (i & 63));
    while (!v) {
        if (++k == words) return -1;
        v = load_word(row + 8 * k);
    }
    return (k << 6) + lowest_bit(v);
}

/* First clear bit at or after i (each row ends with clear bits). */
static inline int next_clear(const uint8_t *row, int i) {
    int k = i >> 6;
    uint64_t v = ~load_word(row + 8 * k) & (~0ULL << (i & 63));
    while (!v) v = ~load_word(row + 8 * ++k);
    return (k << 6) + lowest_bit(v);
}

/* Sets the bits of window [top, top + h) x [left, left + w) of m8 above
 * `cut`; the other bits must be clear. */
static void binarise(const uint8_t *m8, Py_ssize_t stride, int top, int h,
                     int left, int w, uint8_t cut, Bits *bits) {
    for (int y = 0; y < h; y++) {
        const uint8_t *src = m8 + (size_t)(top + y) * stride + left;
        uint8_t *row = bits->bytes + (size_t)(y + 1) * bits->stride;
        int x = 0;
#if defined(__SSE2__) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        /* Unsigned src > cut as a signed comparison of both flipped; 64
         * pixels make the eight bytes from bit 8 + x on. */
        const __m128i flip = _mm_set1_epi8((char)0x80);
        const __m128i limit = _mm_set1_epi8((char)(cut ^ 0x80));
#define ABOVE(k)                                                          \
    ((uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpgt_epi8(                \
         _mm_xor_si128(_mm_loadu_si128((const __m128i *)(src + x + (k))), \
                       flip),                                             \
         limit))                                                          \
     << (k))
        for (; x + 64 <= w; x += 64) {
            uint64_t above = ABOVE(0) | ABOVE(16) | ABOVE(32) | ABOVE(48);
            memcpy(row + 1 + x / 8, &above, sizeof above);
        }
        for (; x + 16 <= w; x += 16) {
            uint16_t above = (uint16_t)ABOVE(0);
            memcpy(row + 1 + x / 8, &above, sizeof above);
        }
#undef ABOVE
#endif
        for (; x < w; x++)
            if (src[x] > cut) row[1 + x / 8] |= (uint8_t)(1u << (x & 7));
    }
}

/*
 * Traces the window [top, bottom) x [left, right) of the uint8 map m8
 * (row stride `stride`) at `cut`; marks holds (h + 2) * (w + 2) bytes.
 * Fills points and spans (discovery order). Returns -1 when out of
 * memory.
 *
 * The raster scan only stops where a border can start: an outer border at
 * the first pixel of a run of foreground, a hole's at the last. Between
 * runs lie only background pixels, so the last border crossed before a
 * run is the one that marked the previous run's last pixel.
 */
static int trace(const uint8_t *m8, Py_ssize_t stride, int top, int bottom,
                 int left, int right, int cut, uint8_t *marks,
                 Points *points, Spans *spans) {
    const int h = bottom - top, w = right - left;
    const Py_ssize_t W = w + 2;
    Bits bits;
    /* Bits 0 .. w + 16 of a row, so that a row ends with clear bits and
     * a neighbourhood read of two bytes stays inside it. */
    bits.words = (w + 16) / 64 + 1;
    bits.stride = 8 * (Py_ssize_t)bits.words;
    bits.bytes = calloc((size_t)(h + 2) * bits.stride, 1);
    if (!bits.bytes) return -1;
    binarise(m8, stride, top, h, left, w, (uint8_t)cut, &bits);
    memset(marks, 0, (size_t)(h + 2) * W);
    const int ox = left - 1, oy = top - 1;
    for (int y = 1; y <= h; y++) {
        const uint8_t *row = bits.bytes + (size_t)y * bits.stride;
        uint8_t *row_marks = marks + (size_t)y * W;
        int crossed_outermost = 1; /* the frame */
        /* Bit i of the row is frame pixel i - 7. */
        int a = next_set(row, 8, bits.words);
        while (a >= 0) {
            const int b = next_clear(row, a + 1) - 1;
            const int xa = a - 7, xb = b - 7;
            const int outer = row_marks[xa] == UNMARKED;
            if (outer && crossed_outermost) {
                Py_ssize_t first = points->count;
                if (follow(&bits, marks, W, xa, y, 4, OUTERMOST,
                           OUTERMOST_EAST0, points, ox, oy) ||
                    spans_push(spans, first, points->count - first)) {
                    free(bits.bytes);
                    return -1;
                }
            } else if (outer) {
                follow(&bits, marks, W, xa, y, 4, INNER, INNER_EAST0, NULL,
                       0, 0);
            }
            /* A pixel starts one border at most; a hole's starts at a
             * pixel not marked east0. */
            const uint8_t end = row_marks[xb];
            if (!(outer && a == b) &&
                (end == UNMARKED || end == OUTERMOST || end == INNER))
                follow(&bits, marks, W, xb, y, 0, INNER, INNER_EAST0, NULL,
                       0, 0);
            crossed_outermost = row_marks[xb] == OUTERMOST ||
                                row_marks[xb] == OUTERMOST_EAST0;
            a = next_set(row, b + 1, bits.words);
        }
    }
    free(bits.bytes);
    return 0;
}

static PyObject *trace_outer(PyObject *self, PyObject *args) {
    PyObject *map_obj, *work_obj;
    int top, bottom, left, right, cut;
    if (!PyArg_ParseTuple(args, "OiiiiiO:trace_outer", &map_obj, &top,
                          &bottom, &left, &right, &cut, &work_obj))
        return NULL;
    Py_buffer map, work;
    if (PyObject_GetBuffer(map_obj, &map, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT))
        return NULL;
    if (PyObject_GetBuffer(work_obj, &work, PyBUF_C_CONTIGUOUS |
                                                PyBUF_WRITABLE)) {
        PyBuffer_Release(&map);
        return NULL;
    }
    PyObject *result = NULL;
    Points points = {NULL, 0, 0};
    Spans spans = {NULL, 0, 0};
    if (map.ndim != 2 || map.itemsize != 1 ||
        (map.format && strcmp(map.format, "B") != 0)) {
        PyErr_SetString(PyExc_ValueError,
                        "trace_outer: the map must be a C-contiguous 2-D "
                        "uint8 array");
        goto done;
    }
    if (top < 0 || left < 0 || bottom > map.shape[0] ||
        right > map.shape[1] || top >= bottom || left >= right) {
        PyErr_Format(PyExc_ValueError,
                     "trace_outer: window [%d, %d) x [%d, %d) is empty or "
                     "outside the %zd x %zd map",
                     top, bottom, left, right, map.shape[0], map.shape[1]);
        goto done;
    }
    if (cut < 0 || cut > 255) {
        PyErr_Format(PyExc_ValueError,
                     "trace_outer: cut %d is outside 0 .. 255", cut);
        goto done;
    }
    Py_ssize_t needed = (Py_ssize_t)(bottom - top + 2) * (right - left + 2);
    if (work.len < needed) {
        PyErr_Format(PyExc_ValueError,
                     "trace_outer: the work buffer holds %zd bytes, the "
                     "window needs %zd",
                     work.len, needed);
        goto done;
    }
    int failed;
    Py_BEGIN_ALLOW_THREADS
    failed = trace((const uint8_t *)map.buf, map.shape[1], top, bottom, left,
                   right, cut, (uint8_t *)work.buf, &points, &spans);
    Py_END_ALLOW_THREADS
    if (failed) {
        PyErr_NoMemory();
        goto done;
    }
    PyObject *xy = PyByteArray_FromStringAndSize(
        (const char *)points.xy,
        (Py_ssize_t)(points.count * 2 * sizeof(int32_t)));
    PyObject *contours = xy ? PyList_New(spans.count) : NULL;
    if (!contours) {
        Py_XDECREF(xy);
        goto done;
    }
    /* OpenCV lists the contours in reverse discovery order. */
    for (Py_ssize_t k = 0; k < spans.count; k++) {
        const Span *s = &spans.spans[spans.count - 1 - k];
        const int32_t *p = points.xy + 2 * s->first;
        int64_t area2 = 0;
        int32_t x0 = p[0], x1 = p[0], y0 = p[1], y1 = p[1];
        for (Py_ssize_t i = 0; i < s->count; i++) {
            const int32_t *a = p + 2 * i;
            const int32_t *b = p + 2 * ((i + 1) % s->count);
            area2 += (int64_t)a[0] * b[1] - (int64_t)b[0] * a[1];
            if (a[0] < x0) x0 = a[0];
            if (a[0] > x1) x1 = a[0];
            if (a[1] < y0) y0 = a[1];
            if (a[1] > y1) y1 = a[1];
        }
        PyObject *item = Py_BuildValue(
            "nnd(iiii)", s->first, s->count,
            (double)(area2 < 0 ? -area2 : area2) / 2, x0, y0, x1 - x0 + 1,
            y1 - y0 + 1);
        if (!item) {
            Py_DECREF(xy);
            Py_DECREF(contours);
            goto done;
        }
        PyList_SET_ITEM(contours, k, item);
    }
    result = Py_BuildValue("(NN)", xy, contours);
done:
    free(points.xy);
    free(spans.spans);
    PyBuffer_Release(&work);
    PyBuffer_Release(&map);
    return result;
}

static PyMethodDef methods[] = {
    {"trace_outer", trace_outer, METH_VARARGS,
     "trace_outer(m8, top, bottom, left, right, cut, work) -> (xy, "
     "contours)\n\n"
     "Outer contours of the outermost components of m8 > cut in the window "
     "[top, bottom) x [left, right) of a C-contiguous uint8 map: those of "
     "cv2.findContours(RETR_EXTERNAL, CHAIN_APPROX_SIMPLE), point for "
     "point and in its order, in map pixels. work: a writable buffer of at "
     "least (bottom - top + 2) * (right - left + 2) bytes. Returns xy, a "
     "bytearray of int32 (x, y) pairs, and per contour (first, count, "
     "area, (x, y, w, h)): its points xy[first:first + count], its "
     "cv2.contourArea and its cv2.boundingRect."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_outer_contours",
    "Exact RETR_EXTERNAL outer contours, faster than OpenCV on one mask.",
    -1, methods,
};

PyMODINIT_FUNC PyInit__outer_contours(void) {
    build_next_table();
    return PyModule_Create(&module);
}
