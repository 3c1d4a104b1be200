import numpy as np
import pytest

from mmc2am.functional import crf
from mmc2am.functional.crf import (PermutohedralLattice, dense_crf,
                                   dense_crf_labels, has_pydensecrf,
                                   labels_to_probs)

NO_PYDENSECRF = ('pydensecrf2 is not installed (pip install Cython && pip '
                 'install --no-build-isolation pydensecrf2)')
BACKENDS = [
    'numpy',
    pytest.param(
        'pydensecrf',
        marks=pytest.mark.skipif(not has_pydensecrf(), reason=NO_PYDENSECRF))
]


def two_halves(height=48, width=64, edge=32):
    """Image of two flat colours split at column ``edge``, and the truth."""
    image = np.empty((height, width, 3), np.uint8)
    image[:, :edge] = (200, 40, 40)
    image[:, edge:] = (30, 90, 200)
    truth = np.zeros((height, width), np.int64)
    truth[:, :edge] = 1
    return image, truth


def blurred_step(height=48, width=64, centre=38.0, softness=3.0):
    """A soft step, 1 on the left, crossing 0.5 at ``centre``."""
    x = np.arange(width, dtype=np.float32)
    return np.tile(1 / (1 + np.exp((x - centre) / softness)), (height, 1))


def test_labels_to_probs_is_the_label_unary():
    probs = labels_to_probs(np.array([[0, 1]]), 2, gt_prob=0.7)
    np.testing.assert_allclose(probs[:, 0], [[0.7, 0.3], [0.3, 0.7]])
    probs = labels_to_probs(np.array([[2]]), 3, gt_prob=0.7)
    np.testing.assert_allclose(probs[:, 0, 0], [0.15, 0.15, 0.7])
    with pytest.raises(ValueError, match=r'\[0, 2\)'):
        labels_to_probs(np.array([[0, 2]]), 2)


@pytest.mark.parametrize('backend', BACKENDS)
def test_crf_snaps_blurred_mask_to_colour_edge(backend):
    image, truth = two_halves()
    thresholded = (blurred_step() > 0.3).astype(np.int64)
    # 1 / (1 + exp((x - 38) / 3)) > 0.3 for x < 38 + 3 ln(7 / 3) = 40.5:
    # the mask spills 9 columns past the colour edge at column 32.
    assert (thresholded.sum(axis=1) == 41).all()
    refined = dense_crf_labels(image, thresholded, 2, backend=backend)
    assert np.abs(refined.sum(axis=1) - 32).max() <= 1
    assert (refined == truth).mean() > (thresholded == truth).mean()
    assert (refined == truth).mean() >= 0.99


@pytest.mark.parametrize('backend', BACKENDS)
def test_crf_keeps_confident_uniform_map(backend):
    image, _ = two_halves()
    probs = np.zeros((2, 48, 64), np.float32)
    probs[0] = 0.9
    probs[1] = 0.1
    q = dense_crf(image, probs, backend=backend)
    np.testing.assert_allclose(q.sum(axis=0), 1, atol=1e-5)
    assert (q.argmax(axis=0) == 0).all()
    # Agreeing neighbours only reinforce the unary.
    assert q[0].min() >= 0.9
    # Zero iterations return the softmax of the unary: the input.
    q0 = dense_crf(image, probs, num_iters=0, backend=backend)
    np.testing.assert_allclose(q0, probs, atol=1e-5)


def test_numpy_backend_matches_pydensecrf():
    pytest.importorskip('pydensecrf.densecrf', reason=NO_PYDENSECRF)
    from pydensecrf.utils import unary_from_labels
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, (4, 5))
    np.testing.assert_allclose(
        -np.log(labels_to_probs(labels, 3, 0.7)).reshape(3, -1),
        unary_from_labels(labels, 3, gt_prob=0.7, zero_unsure=False),
        rtol=1e-6)
    # H * W a multiple of 4: no padding points in pydensecrf's SSE code
    # (see PermutohedralLattice).
    image = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    probs = labels_to_probs(rng.integers(0, 3, (30, 40)), 3, 0.6)
    for kwargs in ({}, dict(num_iters=4, gaussian_sxy=1, bilateral_srgb=13)):
        ours = dense_crf(image, probs, backend='numpy', **kwargs)
        theirs = dense_crf(image, probs, backend='pydensecrf', **kwargs)
        np.testing.assert_allclose(ours, theirs, atol=1e-4)


def test_lattice_filter_is_gaussian():
    # A unit impulse on a pixel grid, kernel std 4 pixels.
    ys, xs = np.mgrid[0:41, 0:41].astype(np.float32)
    lattice = PermutohedralLattice(np.stack([xs.ravel(), ys.ravel()], 1) / 4)
    impulse = np.zeros((1, 41 * 41), np.float32)
    impulse[0, 20 * 41 + 20] = 1
    out = lattice.filter(impulse).reshape(41, 41)
    for dy, dx in ((0, 4), (4, 0), (0, -4)):
        assert out[20 + dy, 20 + dx] / out[20, 20] == pytest.approx(
            np.exp(-0.5), abs=0.03)
    assert out[20, 28] / out[20, 20] == pytest.approx(np.exp(-2), abs=0.04)


def test_lattice_is_linear_and_local():
    features = np.array([[0.3, 0.2], [0.3, 0.2], [50, 50]], np.float32)
    lattice = PermutohedralLattice(features)
    single = lattice.filter(np.array([[1, 0, 0]], np.float32))[0, 0]
    out = lattice.filter(np.array([[1, 2, 5]], np.float32))[0]
    # Identical features share their vertices; far points do not interact.
    np.testing.assert_allclose(out[:2], 3 * single, rtol=1e-5)
    far = lattice.filter(np.array([[0, 0, 5]], np.float32))[0, 2]
    assert out[2] == pytest.approx(far)


def test_bad_inputs_are_explained(monkeypatch):
    image, _ = two_halves()
    probs = labels_to_probs(np.zeros((48, 64), np.int64), 2)
    with pytest.raises(ValueError, match='uint8'):
        dense_crf(image.astype(np.float32), probs, backend='numpy')
    with pytest.raises(ValueError, match='differ in size'):
        dense_crf(image[:10], probs, backend='numpy')
    with pytest.raises(ValueError, match='finite'):
        dense_crf(image, probs * np.nan, backend='numpy')
    with pytest.raises(ValueError, match='backend'):
        dense_crf(image, probs, backend='cuda')
    monkeypatch.setattr(crf, 'has_pydensecrf', lambda: False)
    with pytest.raises(ImportError, match='pydensecrf2'):
        dense_crf(image, probs, backend='pydensecrf')
    with pytest.warns(UserWarning, match='NumPy backend'):
        q = dense_crf(image, probs, num_iters=1)
    assert q.shape == (2, 48, 64)
