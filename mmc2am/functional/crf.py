"""Fully connected CRF (Krähenbühl & Koltun, NeurIPS 2011) on an RGB image.

Mean-field inference with a Potts model over two Gaussian edge kernels:

- appearance-free smoothness ``exp(-|p_i - p_j|^2 / (2 gaussian_sxy^2))``,
  weight ``gaussian_compat``;
- bilateral ``exp(-|p_i - p_j|^2 / (2 bilateral_sxy^2)
  - |I_i - I_j|^2 / (2 bilateral_srgb^2))``, weight ``bilateral_compat``.

Both kernels are evaluated with the permutohedral lattice (Adams et al.,
2010) and normalised symmetrically, as in Krähenbühl's code. Two backends:

- ``'pydensecrf'``: the C++ implementation through the ``pydensecrf2``
  package (``import pydensecrf``), which the reference uses.
- ``'numpy'``: the same lattice and the same update written in NumPy here,
  so the CRF works without the compiled package. It agrees with
  ``'pydensecrf'`` to float32 rounding (one documented exception, see
  :class:`PermutohedralLattice`), is about as fast at VOC size and slower on
  larger images (``tools/benchmark_crf.py`` prints both).

``'auto'`` (default) takes ``'pydensecrf'`` when it imports, else ``'numpy'``.
"""
import warnings
from typing import List, Tuple

import numpy as np

CRF_BACKENDS = ('auto', 'pydensecrf', 'numpy')


def has_pydensecrf() -> bool:
    """Whether the compiled ``pydensecrf`` module (``pydensecrf2``) imports."""
    try:
        import pydensecrf.densecrf  # noqa: F401
    except ImportError:
        return False
    return True


def labels_to_probs(labels: np.ndarray,
                    num_labels: int,
                    gt_prob: float = 0.7) -> np.ndarray:
    """Turn a hard label map into the CRF's unary probabilities.

    Each pixel gets probability ``gt_prob`` for its label and
    ``(1 - gt_prob) / (num_labels - 1)`` for every other label, which gives
    the unary of ``pydensecrf.utils.unary_from_labels(labels, num_labels,
    gt_prob, zero_unsure=False)`` (the reference's cue CRF).

    Args:
        labels (np.ndarray[H, W]): Integer labels in ``[0, num_labels)``.
        num_labels (int): Number of labels, at least 2.
        gt_prob (float): Confidence in the given label, in ``(0, 1)``.
            Defaults to 0.7.

    Returns:
        np.ndarray[num_labels, H, W]: float32 probabilities.
    """
    if num_labels < 2:
        raise ValueError(f'num_labels must be >= 2, got {num_labels}.')
    if not 0 < gt_prob < 1:
        raise ValueError(f'gt_prob must be in (0, 1), got {gt_prob}.')
    labels = np.asarray(labels)
    if labels.ndim != 2 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError('labels must be an integer array [H, W]; got '
                         f'{labels.dtype} {labels.shape}.')
    if labels.size and (labels.min() < 0 or labels.max() >= num_labels):
        raise ValueError(f'labels must lie in [0, {num_labels}); got values '
                         f'{labels.min()}..{labels.max()}.')
    other = (1.0 - gt_prob) / (num_labels - 1)
    probs = np.full((num_labels, ) + labels.shape, other, dtype=np.float32)
    np.put_along_axis(probs, labels[None].astype(np.intp), gt_prob, axis=0)
    return probs


def dense_crf(image: np.ndarray,
              probs: np.ndarray,
              num_iters: int = 10,
              gaussian_sxy: float = 3.0,
              gaussian_compat: float = 3.0,
              bilateral_sxy: float = 50.0,
              bilateral_srgb: float = 5.0,
              bilateral_compat: float = 10.0,
              backend: str = 'auto') -> np.ndarray:
    """Mean-field inference of a dense CRF.

    The unary energy is ``-log(max(probs, 1e-5))`` (pydensecrf's
    ``unary_from_softmax``); ``probs`` need not sum to 1. The defaults are
    the reference's background-cue settings.

    Args:
        image (np.ndarray[H, W, 3]): uint8 image. The bilateral kernel is
            symmetric in the channels, so RGB and BGR give the same result.
        probs (np.ndarray[C, H, W]): Non-negative per-label scores, C >= 2.
        num_iters (int): Mean-field iterations. Defaults to 10.
        gaussian_sxy (float): Spatial std of the smoothness kernel, in
            pixels. Defaults to 3.
        gaussian_compat (float): Potts weight of the smoothness kernel.
            Defaults to 3.
        bilateral_sxy (float): Spatial std of the bilateral kernel.
            Defaults to 50.
        bilateral_srgb (float): Colour std of the bilateral kernel, in
            intensity levels. Defaults to 5.
        bilateral_compat (float): Potts weight of the bilateral kernel.
            Defaults to 10.
        backend (str): ``'auto'``, ``'pydensecrf'`` or ``'numpy'`` (see the
            module docstring). Defaults to ``'auto'``.

    Returns:
        np.ndarray[C, H, W]: float32 marginals, summing to 1 per pixel.
    """
    image, probs = _check_inputs(image, probs)
    if num_iters < 0:
        raise ValueError(f'num_iters must be >= 0, got {num_iters}.')
    unary = -np.log(np.maximum(probs, 1e-5)).reshape(probs.shape[0], -1)
    kernels = ((gaussian_sxy, None, gaussian_compat),
               (bilateral_sxy, bilateral_srgb, bilateral_compat))
    backend = _resolve_backend(backend)
    if backend == 'pydensecrf':
        q = _pydensecrf_inference(image, unary, kernels, num_iters)
    else:
        q = _numpy_inference(image, unary, kernels, num_iters)
    return q.reshape(probs.shape)


def dense_crf_labels(image: np.ndarray,
                     labels: np.ndarray,
                     num_labels: int,
                     gt_prob: float = 0.7,
                     **crf_kwargs) -> np.ndarray:
    """Refine a hard label map with :func:`dense_crf`.

    The reference's ``crf_inference_label``: unary from
    :func:`labels_to_probs`, then the argmax of the marginals.

    Args:
        image (np.ndarray[H, W, 3]): uint8 image.
        labels (np.ndarray[H, W]): Integer labels in ``[0, num_labels)``.
        num_labels (int): Number of labels, at least 2.
        gt_prob (float): Confidence in the given labels. Defaults to 0.7.
        **crf_kwargs: Further arguments of :func:`dense_crf`.

    Returns:
        np.ndarray[H, W]: int64 refined labels.
    """
    probs = labels_to_probs(labels, num_labels, gt_prob)
    return dense_crf(image, probs, **crf_kwargs).argmax(0)


def _check_inputs(image: np.ndarray,
                  probs: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    image = np.asarray(image)
    probs = np.asarray(probs, dtype=np.float32)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError('image must be a uint8 array [H, W, 3]; got '
                         f'{image.dtype} {image.shape}.')
    if probs.ndim != 3 or probs.shape[0] < 2:
        raise ValueError('probs must be [C, H, W] with C >= 2; got '
                         f'{probs.shape}.')
    if probs.shape[1:] != image.shape[:2]:
        raise ValueError(f'probs {probs.shape[1:]} and image '
                         f'{image.shape[:2]} differ in size.')
    if not np.isfinite(probs).all() or (probs < 0).any():
        raise ValueError('probs must be finite and non-negative.')
    return np.ascontiguousarray(image), probs


def _resolve_backend(backend: str) -> str:
    if backend not in CRF_BACKENDS:
        raise ValueError(f'backend must be one of {CRF_BACKENDS}, '
                         f'got {backend!r}.')
    if backend == 'numpy':
        return backend
    if has_pydensecrf():
        return 'pydensecrf'
    if backend == 'pydensecrf':
        raise ImportError(
            'backend="pydensecrf" needs the pydensecrf2 package: '
            '`pip install Cython && pip install --no-build-isolation '
            'pydensecrf2` (it compiles C++), or use backend="numpy".')
    warnings.warn('pydensecrf is not installed: the dense CRF runs on its '
                  'NumPy backend (same result, slower on large images). '
                  'Install it with `pip install Cython && pip install '
                  '--no-build-isolation pydensecrf2`.')
    return 'numpy'


def _pydensecrf_inference(image: np.ndarray, unary: np.ndarray, kernels: tuple,
                          num_iters: int) -> np.ndarray:
    import pydensecrf.densecrf as dcrf
    height, width = image.shape[:2]
    crf = dcrf.DenseCRF2D(width, height, unary.shape[0])
    crf.setUnaryEnergy(np.ascontiguousarray(unary, dtype=np.float32))
    (g_sxy, _, g_compat), (b_sxy, b_srgb, b_compat) = kernels
    crf.addPairwiseGaussian(sxy=g_sxy, compat=g_compat)
    crf.addPairwiseBilateral(
        sxy=b_sxy, srgb=b_srgb, rgbim=image, compat=b_compat)
    return np.asarray(crf.inference(num_iters), dtype=np.float32)


def _numpy_inference(image: np.ndarray, unary: np.ndarray, kernels: tuple,
                     num_iters: int) -> np.ndarray:
    """Krähenbühl's mean-field loop: Q = softmax(-U + sum_k w_k K_k Q)."""
    height, width = image.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    position = np.stack([xs.ravel(), ys.ravel()], axis=1)
    colour = image.reshape(-1, 3).astype(np.float32)
    filters = []
    for sxy, srgb, compat in kernels:
        features = position / np.float32(sxy)
        if srgb is not None:
            features = np.concatenate([features, colour / np.float32(srgb)],
                                      axis=1)
        lattice = PermutohedralLattice(features)
        norm = lattice.filter(np.ones((1, len(features)), np.float32))[0]
        filters.append(
            (lattice, 1 / np.sqrt(norm + 1e-20), np.float32(compat)))
    neg_unary = -unary
    q = _softmax(neg_unary)
    for _ in range(num_iters):
        energy = neg_unary.copy()
        for lattice, norm, compat in filters:
            energy += compat * norm * lattice.filter(q * norm)
        q = _softmax(energy)
    return q


def _softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the first axis of ``[C, N]``."""
    e = np.exp(x - x.max(axis=0))
    return e / e.sum(axis=0)


class PermutohedralLattice:
    """Gaussian filtering of values at points in a d-dim feature space.

    Points are splatted onto the vertices of the enclosing simplices of the
    permutohedral lattice, blurred along its d + 1 axes with a [1, 2, 1]
    kernel and sliced back (Adams, Baek & Davis, 2010). The filter
    approximates ``out_i = sum_j exp(-|f_i - f_j|^2 / 2) * in_j``, self term
    included. The construction, the float32 arithmetic and the scaling
    follow the SSE path of Krähenbühl's ``permutohedral.cpp`` (the one
    pydensecrf runs on x86), so the result matches pydensecrf's up to
    float32 summation order, with one known exception: pydensecrf pads the
    points to a multiple of 4 with all-zero features and keeps their lattice
    vertices, which then relay blurred mass; when ``N % 4 != 0`` that moves
    the output of the few points whose features are near zero (dark pixels
    near the top-left corner). Here only the points' own vertices exist.

    Args:
        features (np.ndarray[N, d]): Point features, already divided by the
            kernel's standard deviations.
    """

    def __init__(self, features: np.ndarray) -> None:
        # Coordinate-major arrays [d + 1, N] throughout: contiguous rows.
        features = np.ascontiguousarray(np.asarray(features, np.float32).T)
        dim, num_points = features.shape
        elevated = self._elevate(features)
        rem0, rank = self._nearest_zero_vertex(elevated)
        self.weights = self._barycentric(elevated, rem0, rank)

        # Vertex r of a point's simplex has the integer key (first d
        # coordinates) rem0 + canonical[r, rank]; keys[i] is [d + 1, N].
        r = np.arange(dim + 1)
        canonical = np.where(r[None] <= dim - r[:, None], r[:, None],
                             r[:, None] - dim - 1)
        keys = [
            rem0[i] + np.take(canonical, rank[i], axis=1) for i in range(dim)
        ]
        # Mixed-radix codes with a margin of d + 1, so that a blur neighbour
        # of any vertex has a valid code too.
        low = np.array([k.min() for k in keys], np.int64) - dim - 1
        span = np.array([k.max() for k in keys], np.int64) - low + dim + 2
        if np.sum(np.log2(span)) > 62:
            raise ValueError('feature range too large for the lattice; '
                             'use larger kernel standard deviations.')
        strides = np.cumprod(np.r_[span[1:], 1][::-1])[::-1]
        codes = np.zeros((dim + 1, num_points), np.int64)
        for key, lo, stride in zip(keys, low, strides):
            codes += (key - lo) * stride
        vertices, index = np.unique(codes, return_inverse=True)
        self.num_vertices = len(vertices)
        self.index = index.reshape(dim + 1, num_points)
        self.neighbours = self._neighbours(vertices, strides, dim)
        self._flat_index = self.index.ravel()
        # Krähenbühl's "alpha" normalises the blur's gain.
        self._slice_weights = self.weights * np.float32(1 / (1 + 2.0**(-dim)))

    @staticmethod
    def _elevate(features: np.ndarray) -> np.ndarray:
        """Embed the features [d, N] in the hyperplane sum(x) = 0 of R^(d+1).

        float32 in Krähenbühl's order of operations, so that points on a
        simplex boundary fall on the same side as in pydensecrf.
        """
        dim, num_points = features.shape
        inv_std = np.float32(np.sqrt(2 / 3) * (dim + 1))
        i = np.arange(dim)
        scale = (np.float64(inv_std) / np.sqrt(
            (i + 1) * (i + 2))).astype(np.float32)
        elevated = np.empty((dim + 1, num_points), np.float32)
        partial = np.zeros(num_points, np.float32)
        for k in range(dim, 0, -1):
            scaled = features[k - 1] * scale[k - 1]
            elevated[k] = partial - np.float32(k) * scaled
            partial += scaled
        elevated[0] = partial
        return elevated

    @staticmethod
    def _nearest_zero_vertex(
            elevated: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """The closest remainder-0 lattice point and the coordinate ranks."""
        dim = elevated.shape[0] - 1
        # Round half to even, as the SSE code that pydensecrf runs on x86.
        nearest = np.rint(elevated * np.float32(1 / (dim + 1)))
        rem0 = nearest.astype(np.int64) * (dim + 1)
        offset = nearest.sum(axis=0).astype(np.int64)
        residual = elevated - rem0.astype(np.float32)
        # rank: position of each coordinate in descending residual order,
        # ties keep index order (Krähenbühl's pairwise loop).
        rank = np.zeros(elevated.shape, np.int64)
        for i in range(dim):
            for j in range(i + 1, dim + 1):
                smaller = residual[i] < residual[j]
                rank[i] += smaller
                rank[j] += ~smaller
        rank += offset
        wrap = (rank < 0).astype(np.int64) - (rank > dim)
        rank += wrap * (dim + 1)
        rem0 += wrap * (dim + 1)
        return rem0, rank

    @staticmethod
    def _barycentric(elevated: np.ndarray, rem0: np.ndarray,
                     rank: np.ndarray) -> np.ndarray:
        """Barycentric weights [d + 1, N] of the enclosing vertices."""
        dim_1 = elevated.shape[0]
        delta = (elevated - rem0.astype(np.float32)) * np.float32(1 / dim_1)
        # by_rank[r]: the delta of the coordinate of rank r. Vertex p gets
        # by_rank[d - p] - by_rank[d + 1 - p] (float32, as the C++ sums).
        by_rank = np.empty_like(delta)
        np.put_along_axis(by_rank, rank, delta, axis=0)
        descending = by_rank[::-1]
        bary = np.empty_like(delta)
        bary[0] = descending[0]
        bary[1:] = descending[1:] - descending[:-1]
        bary[0] += 1 + (-by_rank[0])  # wrap-around of vertex d + 1
        return bary

    def _neighbours(self, vertices: np.ndarray, strides: np.ndarray,
                    dim: int) -> List[Tuple[np.ndarray, np.ndarray]]:
        """Per lattice axis, the two neighbours of every vertex; a missing
        neighbour points at the extra zero row ``num_vertices``."""
        m = self.num_vertices
        neighbours = []
        for axis in range(dim + 1):
            step = -np.ones(dim, np.int64)
            if axis < dim:
                step[axis] = dim
            target = vertices + step @ strides
            found = np.minimum(np.searchsorted(vertices, target), m - 1)
            hit = vertices[found] == target
            minus = np.where(hit, found, m)
            # the opposite neighbour is the inverse relation.
            plus = np.full(m, m, np.int64)
            plus[found[hit]] = np.flatnonzero(hit)
            neighbours.append((minus, plus))
        return neighbours

    def filter(self, values: np.ndarray) -> np.ndarray:
        """Filter values defined at the points.

        Args:
            values (np.ndarray[C, N]): float32 values.

        Returns:
            np.ndarray[C, N]: float32 filtered values.
        """
        channels, num_points = values.shape
        m = self.num_vertices
        # Splat: grid[v] = sum of weight * value over the points of vertex v.
        grid = np.zeros((m + 1, channels), np.float32)
        for c in range(channels):
            weighted = (self.weights * values[c]).ravel()
            grid[:m, c] = np.bincount(self._flat_index, weighted, minlength=m)
        # Blur: [1, 2, 1] / 2 along each lattice axis; row m stays zero.
        first = np.empty((m, channels), np.float32)
        second = np.empty((m, channels), np.float32)
        for minus, plus in self.neighbours:
            np.take(grid, minus, axis=0, out=first)
            np.take(grid, plus, axis=0, out=second)
            first += second
            first *= 0.5
            grid[:m] += first
        # Slice: interpolate the grid back at the points.
        out = np.zeros((num_points, channels), np.float32)
        for vertex, weight in zip(self.index, self._slice_weights):
            out += weight[:, None] * np.take(grid, vertex, axis=0)
        return out.T
