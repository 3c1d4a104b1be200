"""Pseudo labels from class CAMs and background cues, and their evaluation.

Refinement (method.md section 6.5): the CAMs of the classes present in an
image, each in ``[0, 1]``, get a background channel in front, ``1 - cue``
(:func:`refine_labels`) or a constant (:func:`threshold_labels`, the
baseline); the per-pixel argmax is the label, 0 background and ``k`` the
class id ``k`` of the channel (ties go to the earlier channel, so to the
background first). Optionally, pixels whose winning score is below a bound
become 255 ("ignore" for mmseg).

Class ids are 1-based (0 is background), as in VOC label PNGs. CAM files
written by other methods use two conventions for ``keys``; :func:`read_cams`
reads both (see there).

Evaluation follows PSA / IRN / the C²AM reference: a confusion matrix over
the labelled pixels, per-class IoU ``TP / (TP + FP + FN)``, and the
false-positive and false-negative rates ``FP / (TP + FP + FN)`` and
``FN / (TP + FP + FN)``, where for class ``c`` ``FP`` counts pixels
predicted ``c`` whose truth is another class and ``FN`` pixels of class
``c`` predicted as another class.
"""
import os.path as osp
from typing import Dict, Optional, Tuple

import numpy as np
from PIL import Image

from mmc2am.utils.png import write_png

IGNORE_INDEX = 255
# Arrays read from a CAM file, in order of preference.
CAM_ARRAY_KEYS = ('hr_cam', 'high_res', 'cam')


def read_cams(path: str) -> Tuple[np.ndarray, np.ndarray]:
    """Read the CAMs of the present classes of one image.

    Accepted files: ``.npy`` holding a pickled dict (``np.save(path,
    dict(...))``), or ``.npz`` with the same names. The CAM array is the
    first of ``hr_cam``, ``high_res``, ``cam`` present (numpy array or
    torch tensor), shaped ``[K, H, W]`` or, with a background channel,
    ``[K + 1, H, W]``. ``keys`` is read in one of three layouts, told apart
    by its length:

    - ``len(keys) == K + 1`` (PuzzleCAM and the C²AM reference,
      ``hr_cam``): ``keys = [0, c_1 + 1, ..., c_K + 1]``, background first,
      then 1-based class ids.
    - ``len(keys) == K`` (IRN and its followers, ``high_res`` / ``cam``):
      0-based foreground class indices ``[c_1, ..., c_K]``; the class id is
      ``c + 1``.
    - ``len(keys) == K - 1`` (e.g. AMN): IRN keys with the CAM array
      holding a background channel first; that channel is dropped (the
      refinement supplies its own background).

    ``.npy`` files are unpickled: read only files you trust.

    Args:
        path (str): The ``.npy`` or ``.npz`` file.

    Returns:
        tuple: ``cams`` (np.ndarray[K, H, W], float32) and ``class_ids``
        (np.ndarray[K], int64, 1-based) of the present classes. ``K`` may
        be 0 (no foreground class).
    """
    data = _load_dict(path)
    name = next((k for k in CAM_ARRAY_KEYS if k in data), None)
    if name is None or 'keys' not in data:
        raise ValueError(f'{path}: needs "keys" and one of {CAM_ARRAY_KEYS};'
                         f' found {sorted(data)}.')
    cams = as_array(data[name]).astype(np.float32)
    keys = as_array(data['keys']).astype(np.int64).ravel()
    if cams.ndim != 3:
        raise ValueError(f'{path}: "{name}" must be [K, H, W]; got '
                         f'{cams.shape}.')
    num = cams.shape[0]
    if len(keys) == num + 1 and keys[0] == 0:
        class_ids = keys[1:]
    elif len(keys) == num:
        class_ids = keys + 1
    elif len(keys) == num - 1:
        cams, class_ids = cams[1:], keys + 1
    else:
        raise ValueError(
            f'{path}: {len(keys)} keys {keys.tolist()} do not match the '
            f'{num} channels of "{name}" (see read_cams for the layouts).')
    return cams, class_ids


def as_array(x) -> np.ndarray:
    """A numpy array from an array-like or a (CPU or GPU) torch tensor."""
    if hasattr(x, 'detach'):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _load_dict(path: str) -> dict:
    """The dict stored in a ``.npy`` (pickled) or ``.npz`` file."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'CAM file {path} does not exist.')
    try:
        if path.endswith('.npz'):
            with np.load(path) as archive:
                return {k: archive[k] for k in archive.files}
        data = np.load(path, allow_pickle=True)
    except Exception as e:  # unpickling and unzipping raise anything
        raise ValueError(f'{path}: unreadable ({type(e).__name__}: {e}).')
    if data.dtype == object and data.shape == () and isinstance(
            data.item(), dict):
        return data.item()
    raise ValueError(
        f'{path}: expected a dict saved with np.save(path, dict(keys=..., '
        f'hr_cam=...)); got an array of shape {data.shape}, {data.dtype}.')


def scores_to_labels(background,
                     cams: np.ndarray,
                     class_ids: np.ndarray,
                     ignore_below: Optional[float] = None) -> np.ndarray:
    """Argmax over a background score and the class CAMs.

    Args:
        background (float | np.ndarray[H, W]): Background score.
        cams (np.ndarray[K, H, W]): CAMs in ``[0, 1]``.
        class_ids (np.ndarray[K]): Class id of each CAM, in ``[1, 254]``.
        ignore_below (float, optional): Pixels whose winning score is below
            this become 255. Defaults to None (no ignore).

    Returns:
        np.ndarray[H, W]: uint8 labels.
    """
    cams = np.asarray(cams, dtype=np.float32)
    class_ids = np.asarray(class_ids, dtype=np.int64).ravel()
    if cams.ndim != 3 or len(class_ids) != cams.shape[0]:
        raise ValueError(f'cams [K, H, W] {cams.shape} need K class ids; got '
                         f'{len(class_ids)}.')
    if len(class_ids) and (class_ids.min() < 1 or class_ids.max() > 254
                           or len(np.unique(class_ids)) < len(class_ids)):
        raise ValueError('class ids must be distinct and in [1, 254]; got '
                         f'{class_ids.tolist()}.')
    _check_unit_range(cams, 'cams')
    background = np.broadcast_to(
        np.asarray(background, dtype=np.float32), cams.shape[1:])
    _check_unit_range(background, 'the background score')
    scores = np.concatenate([background[None], cams], axis=0)
    winner = scores.argmax(axis=0)
    labels = np.concatenate([[0], class_ids]).astype(np.uint8)[winner]
    if ignore_below is not None:
        best = np.take_along_axis(scores, winner[None], axis=0)[0]
        labels[best < ignore_below] = IGNORE_INDEX
    return labels


def refine_labels(cams: np.ndarray,
                  class_ids: np.ndarray,
                  cue: np.ndarray,
                  ignore_below: Optional[float] = None) -> np.ndarray:
    """Pseudo labels with the background cue: background score ``1 - cue``.

    Args:
        cams (np.ndarray[K, H, W]): CAMs of the present classes, in
            ``[0, 1]``.
        class_ids (np.ndarray[K]): Their 1-based class ids.
        cue (np.ndarray[H, W]): Foreground cue in ``[0, 1]`` (a cue PNG
            divided by 255, see :func:`mmc2am.functional.cues.read_cue`).
        ignore_below (float, optional): See :func:`scores_to_labels`.

    Returns:
        np.ndarray[H, W]: uint8 labels, 0 background, 255 ignored.
    """
    cue = np.asarray(cue, dtype=np.float32)
    if cue.shape != np.shape(cams)[1:]:
        raise ValueError(f'cue {cue.shape} and CAMs {np.shape(cams)[1:]} '
                         'differ in size (both must be at image size).')
    return scores_to_labels(1 - cue, cams, class_ids, ignore_below)


def threshold_labels(cams: np.ndarray,
                     class_ids: np.ndarray,
                     threshold: float,
                     ignore_below: Optional[float] = None) -> np.ndarray:
    """Baseline pseudo labels: constant background score ``threshold``.

    Args:
        cams (np.ndarray[K, H, W]): CAMs of the present classes.
        class_ids (np.ndarray[K]): Their 1-based class ids.
        threshold (float): Background score in ``[0, 1]``.
        ignore_below (float, optional): See :func:`scores_to_labels`.

    Returns:
        np.ndarray[H, W]: uint8 labels, 0 background, 255 ignored.
    """
    return scores_to_labels(threshold, cams, class_ids, ignore_below)


def confusion_matrix(pred: np.ndarray,
                     gt: np.ndarray,
                     num_classes: int,
                     ignore_index: int = IGNORE_INDEX) -> np.ndarray:
    """Pixel confusion matrix, rows ground truth, columns prediction.

    Pixels whose ground truth or prediction is ``ignore_index`` are left
    out (count predicted-ignore pixels separately to report coverage).

    Args:
        pred (np.ndarray[H, W]): Predicted class ids.
        gt (np.ndarray[H, W]): Ground-truth class ids.
        num_classes (int): Number of classes, background included.
        ignore_index (int): Label to leave out. Defaults to 255.

    Returns:
        np.ndarray[num_classes, num_classes]: int64 counts.
    """
    pred = np.asarray(pred).astype(np.int64)
    gt = np.asarray(gt).astype(np.int64)
    if pred.shape != gt.shape:
        raise ValueError(f'prediction {pred.shape} and ground truth '
                         f'{gt.shape} differ in size.')
    valid = (pred != ignore_index) & (gt != ignore_index)
    pred, gt = pred[valid], gt[valid]
    for what, values in (('prediction', pred), ('ground truth', gt)):
        bad = values[(values < 0) | (values >= num_classes)]
        if bad.size:
            raise ValueError(
                f'{what} holds class ids {np.unique(bad).tolist()} outside '
                f'[0, {num_classes}) (and not {ignore_index}); check '
                'num_classes.')
    counts = np.bincount(
        gt * num_classes + pred, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)


def miou_from_confusion(confusion: np.ndarray) -> Dict[str, object]:
    """IoU, false-positive and false-negative rates from a confusion matrix.

    For class ``c``: ``TP = C[c, c]``, ``FP = sum(C[:, c]) - TP``,
    ``FN = sum(C[c, :]) - TP``, ``union = TP + FP + FN``;
    ``IoU = TP / union``, ``FP rate = FP / union``, ``FN rate = FN / union``
    (so ``IoU + FP rate + FN rate = 1``). A class absent from both
    prediction and ground truth has no union: its values are NaN and the
    means skip it (as mmseg's IoUMetric; the reference counts it as IoU 0).

    Args:
        confusion (np.ndarray[C, C]): Rows ground truth, columns prediction.

    Returns:
        dict: ``iou``, ``fp``, ``fn`` (np.ndarray[C], float64);
        ``miou`` (mean IoU over all classes), ``mean_fp`` and ``mean_fn``
        (over the foreground classes 1..C-1, as the reference reports).
    """
    confusion = np.asarray(confusion, dtype=np.float64)
    tp = np.diag(confusion)
    fp = confusion.sum(axis=0) - tp
    fn = confusion.sum(axis=1) - tp
    union = tp + fp + fn
    with np.errstate(invalid='ignore', divide='ignore'):
        iou, fp_rate, fn_rate = tp / union, fp / union, fn / union
    return dict(
        iou=iou,
        fp=fp_rate,
        fn=fn_rate,
        miou=_nanmean(iou),
        mean_fp=_nanmean(fp_rate[1:]),
        mean_fn=_nanmean(fn_rate[1:]))


def load_label_map(path: str) -> np.ndarray:
    """Read a single-channel or palette PNG as its stored values.

    Palette PNGs (VOC ``SegmentationClass``) give their indices, as mmseg
    reads them.

    Args:
        path (str): Image file.

    Returns:
        np.ndarray[H, W]: uint8 values.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} does not exist.')
    with Image.open(path) as img:
        if img.mode not in ('L', 'P'):
            raise ValueError(f'{path}: expected a single-channel or palette '
                             f'image, got mode {img.mode}.')
        return np.array(img, dtype=np.uint8)


def save_label_map(path: str, labels: np.ndarray) -> None:
    """Write a uint8 map as a single-channel PNG, atomically.

    Written through :func:`mmc2am.utils.png.write_png` (atomic): an
    interrupted write leaves no partial ``path``.

    Args:
        path (str): Output ``.png`` file; its folder is created.
        labels (np.ndarray[H, W]): uint8 values.
    """
    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.dtype != np.uint8:
        raise ValueError('labels must be a uint8 array [H, W]; got '
                         f'{labels.dtype} {labels.shape}.')
    write_png(path, labels)


def _check_unit_range(values: np.ndarray, what: str) -> None:
    if not np.isfinite(values).all():
        raise ValueError(f'{what} hold NaN or infinite values.')
    if values.size and (values.min() < -1e-4 or values.max() > 1 + 1e-4):
        raise ValueError(
            f'{what} must lie in [0, 1]; got {values.min():.4g}..'
            f'{values.max():.4g}. Normalise each CAM by its maximum.')


def _nanmean(values: np.ndarray) -> float:
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else float('nan')
