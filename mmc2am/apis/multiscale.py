"""Multi-scale, flip-averaged object maps of a trained C²AM (method.md
section 6.2)."""
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from mmc2am.functional.cues import fuse_multiscale


@torch.no_grad()
def multiscale_map(model: torch.nn.Module,
                   img: np.ndarray,
                   scales: Sequence[float] = (0.5, 1.0, 1.5, 2.0),
                   flip: bool = True,
                   polarity_mode: str = 'sign') -> np.ndarray:
    """The fused object map of one image at its original size.

    The image is normalised by the model's ``data_preprocessor`` (mean,
    std, ``bgr_to_rgb``), then for each scale resized by that factor
    (bilinear on the float image, sides rounded, at least 1 pixel); the
    model's pre-sigmoid map of it, and of its horizontal flip (flipped
    back), gets the polarity (:meth:`C2AM.apply_polarity` with
    ``polarity_mode``). :func:`fuse_multiscale` fuses the maps: ReLU,
    resize to the image, sum, divide by the maximum.

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
    if len(scales) == 0 or min(scales) <= 0:
        raise ValueError(f'scales must be positive factors; got {scales}.')
    height, width = img.shape[:2]
    chw = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)
    inputs = model.data_preprocessor(dict(inputs=[chw]), False)['inputs']
    maps = []
    for scale in scales:
        size = (max(1, round(height * scale)), max(1, round(width * scale)))
        x = inputs if size == (height, width) else F.interpolate(
            inputs, size=size, mode='bilinear', align_corners=False)
        if flip:
            x = torch.cat([x, x.flip(-1)])
        logits = model.head(model.extract_feat(x))['logits']
        logits = model.apply_polarity(logits, polarity_mode).float().cpu()
        maps.append(logits[0, 0])
        if flip:
            maps.append(logits[1, 0].flip(-1))
    return fuse_multiscale(maps, (height, width))
