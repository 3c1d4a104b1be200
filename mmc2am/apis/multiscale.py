"""Multi-scale, flip-fused maps of a trained model (method.md section 6.2):
C²AM object maps and classifier CAMs."""
from typing import Callable, List, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from mmc2am.functional.cues import fuse_multiscale


@torch.no_grad()
def multiscale_outputs(model: torch.nn.Module,
                       img: np.ndarray,
                       forward: Callable[[Tensor], Tensor],
                       scales: Sequence[float] = (0.5, 1.0, 1.5, 2.0),
                       flip: bool = True) -> List[Tensor]:
    """Dense outputs of one image at several scales and their flips.

    The image is normalised by the model's ``data_preprocessor`` (mean,
    std, ``bgr_to_rgb``), then for each scale resized by that factor
    (bilinear on the float image, sides rounded, at least 1 pixel) and
    passed to ``forward``, together with its horizontal flip, whose output
    is flipped back.

    Args:
        model (torch.nn.Module): A model with a ``data_preprocessor``.
        img (np.ndarray[H, W, 3]): The image, uint8 BGR.
        forward (Callable): ``Tensor[N, 3, h, w]`` to ``Tensor[N, K, h',
            w']`` (e.g. a model's pre-sigmoid maps or CAMs).
        scales (Sequence[float]): Resize factors. Defaults to
            ``(0.5, 1.0, 1.5, 2.0)``, the reference's.
        flip (bool): Also run the horizontal flips. Defaults to True.

    Returns:
        list[Tensor[K, h', w']]: float32 CPU outputs, per scale the image's
        then (with ``flip``) its flip's, flipped back.

    Raises:
        ValueError: No scale, or a non-positive scale.
    """
    if len(scales) == 0 or min(scales) <= 0:
        raise ValueError(f'scales must be positive factors; got {scales}.')
    height, width = img.shape[:2]
    chw = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)
    inputs = model.data_preprocessor(dict(inputs=[chw]), False)['inputs']
    outputs = []
    for scale in scales:
        size = (max(1, round(height * scale)), max(1, round(width * scale)))
        x = inputs if size == (height, width) else F.interpolate(
            inputs, size=size, mode='bilinear', align_corners=False)
        if flip:
            x = torch.cat([x, x.flip(-1)])
        out = forward(x).float().cpu()
        outputs.append(out[0])
        if flip:
            outputs.append(out[1].flip(-1))
    return outputs


def multiscale_map(model: torch.nn.Module,
                   img: np.ndarray,
                   scales: Sequence[float] = (0.5, 1.0, 1.5, 2.0),
                   flip: bool = True,
                   polarity_mode: str = 'sign') -> np.ndarray:
    """The fused C²AM object map of one image at its original size.

    The pre-sigmoid map of every scale and flip
    (:func:`multiscale_outputs`) gets the polarity
    (:meth:`C2AM.apply_polarity` with ``polarity_mode``);
    :func:`fuse_multiscale` fuses the maps: ReLU, resize to the image, sum,
    divide by the maximum.

    Args:
        model (torch.nn.Module): A C2AM in eval mode (e.g. from
            :func:`mmc2am.apis.inference.init_c2am`).
        img (np.ndarray[H, W, 3]): The image, uint8 BGR.
        scales (Sequence[float]): Resize factors. Defaults to
            ``(0.5, 1.0, 1.5, 2.0)``, the reference's.
        flip (bool): Also map the horizontal flips. Defaults to True.
        polarity_mode (str): 'sign' (default, ``-x`` when flipped) or
            'reference' (``1 - x``, the reference's WSSS inference).

    Returns:
        np.ndarray[H, W]: float32 map in ``[0, 1]`` with maximum 1 (all
        zeros when no map is positive).

    Raises:
        ValueError: No scale, a non-positive scale, or a map with NaN or
            infinite values.
    """

    def forward(x: Tensor) -> Tensor:
        logits = model.head(model.extract_feat(x))['logits']
        return model.apply_polarity(logits, polarity_mode)

    maps = multiscale_outputs(model, img, forward, scales, flip)
    return fuse_multiscale([m[0] for m in maps], img.shape[:2])


def multiscale_cams(model: torch.nn.Module,
                    img: np.ndarray,
                    class_indices: Sequence[int],
                    scales: Sequence[float] = (0.5, 1.0, 1.5, 2.0),
                    flip: bool = True) -> np.ndarray:
    """Fused class activation maps of some classes of one image.

    The CAMs (``model.cams``) of every scale and flip
    (:func:`multiscale_outputs`) are fused per class by
    :func:`fuse_multiscale`: ReLU, resize to the image, sum, divide by the
    class map's maximum.

    Args:
        model (torch.nn.Module): A classifier with ``cams(inputs)``
            (``Tensor[N, num_classes, h, w]``, e.g. :class:`GAPClassifier`)
            in eval mode.
        img (np.ndarray[H, W, 3]): The image, uint8 BGR.
        class_indices (Sequence[int]): The 0-based classes to map (e.g. the
            present ones), distinct, in ``[0, num_classes)``.
        scales (Sequence[float]): Resize factors. Defaults to
            ``(0.5, 1.0, 1.5, 2.0)``.
        flip (bool): Also map the horizontal flips. Defaults to True.

    Returns:
        np.ndarray[K, H, W]: float32 maps in ``[0, 1]``, channel ``k`` of
        class ``class_indices[k]``, each with maximum 1 (all zeros when the
        class is nowhere positive).

    Raises:
        ValueError: No class, a class index out of range or repeated, a
            bad scale, or CAMs with NaN or infinite values.
    """
    indices = [int(c) for c in class_indices]
    num_classes = getattr(model, 'num_classes', None)
    if not indices or len(set(indices)) < len(indices) or min(indices) < 0 \
            or (num_classes is not None and max(indices) >= num_classes):
        raise ValueError(f'class_indices must be distinct classes in [0, '
                         f'{num_classes}); got {indices}.')
    cams = multiscale_outputs(model, img, lambda x: model.cams(x)[:, indices],
                              scales, flip)
    return np.stack([
        fuse_multiscale([c[k] for c in cams], img.shape[:2])
        for k in range(len(indices))
    ])
