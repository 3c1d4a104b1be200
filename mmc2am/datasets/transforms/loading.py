"""Load any image OpenCV reads as 8-bit, 3-channel BGR."""
import logging
from typing import Optional

import cv2
import mmengine.fileio as fileio
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log
from mmseg.registry import TRANSFORMS

# Decode to 3 channels (grey replicated, alpha dropped, palette expanded,
# EXIF orientation applied) but keep 16-bit depth, so that it can be
# rescaled instead of being truncated.
_DECODE_FLAGS = cv2.IMREAD_COLOR | cv2.IMREAD_ANYDEPTH

_JPEG_SOI = b'\xff\xd8'
_JPEG_SOS = b'\xff\xda'
_JPEG_EOI = b'\xff\xd9'


class UnreadableImageError(OSError):
    """An image file exists but cannot be decoded into an 8-bit image."""


def to_bgr_uint8(img: np.ndarray, name: str = 'image') -> np.ndarray:
    """Convert a decoded image array to 8-bit, 3-channel BGR.

    Grey images (``[H, W]`` or ``[H, W, 1]``) are replicated to 3 channels;
    grey + alpha (``[H, W, 2]``) keeps the grey channel; BGRA
    (``[H, W, 4]``) drops the alpha channel (the stored colour is kept, not
    composited, as ``mmcv.imread`` and PIL's ``convert('RGB')`` do).
    16-bit values are rescaled by 255 / 65535 and rounded (65535 -> 255,
    257 * k -> k).

    Args:
        img (np.ndarray): ``[H, W]`` or ``[H, W, C]``, C in 1..4, uint8 or
            uint16.
        name (str): Name used in error messages, e.g. the file path.
            Defaults to 'image'.

    Returns:
        np.ndarray: ``[H, W, 3]`` uint8, C-contiguous.

    Raises:
        ValueError: For other dtypes (float, signed, 32-bit) or shapes.
    """
    if img.dtype == np.uint16:
        img = np.rint(img / 257.0).astype(np.uint8)
    elif img.dtype != np.uint8:
        raise ValueError(
            f'{name}: {img.dtype} images are not supported; only 8- and '
            '16-bit unsigned images are. Convert it to 8-bit (e.g. PNG or '
            'JPEG) first.')
    if img.ndim == 3 and img.shape[2] in (1, 2):
        img = img[..., 0]
    elif img.ndim == 3 and img.shape[2] == 4:
        img = img[..., :3]
    elif not (img.ndim == 2 or (img.ndim == 3 and img.shape[2] == 3)):
        raise ValueError(f'{name}: cannot read an image of shape '
                         f'{img.shape} as H x W x 3 colour.')
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    return np.ascontiguousarray(img)


def _jpeg_is_truncated(data: bytes) -> bool:
    """Whether JPEG bytes lack an end-of-image marker after the last scan.

    libjpeg decodes a truncated file with a warning and fills the missing
    part with grey; this catches it. Markers inside an embedded EXIF
    thumbnail come before the main image's scans and do not matter.
    """
    return (data[:2] == _JPEG_SOI
            and data.rfind(_JPEG_EOI) < data.rfind(_JPEG_SOS))


def read_image_bgr8(path: str,
                    backend_args: Optional[dict] = None) -> np.ndarray:
    """Read an image file as ``np.ndarray[H, W, 3]`` uint8 BGR.

    Any format the installed OpenCV decodes (jpg, png, bmp, tif, webp,
    ppm, pgm...) at 8 or 16 bits, grey, colour or with alpha, is accepted
    (see :func:`to_bgr_uint8`). EXIF orientation is applied, as
    ``mmcv.imread`` does.

    Args:
        path (str): Image path (or URI for the mmengine file backend).
        backend_args (dict, optional): mmengine file backend arguments.
            Defaults to None (local files).

    Raises:
        FileNotFoundError: The file does not exist.
        UnreadableImageError: The file is empty, truncated, not an image,
            or of an unsupported depth.
    """
    try:
        data = fileio.get(path, backend_args=backend_args)
    except FileNotFoundError as err:
        raise FileNotFoundError(f'Image file not found: {path}') from err
    if len(data) == 0:
        raise UnreadableImageError(f'Image file is empty (0 bytes): {path}')
    if _jpeg_is_truncated(data):
        raise UnreadableImageError(
            f'Truncated JPEG (no end-of-image marker): {path}. Re-copy or '
            'remove the file.')
    img = cv2.imdecode(np.frombuffer(data, np.uint8), _DECODE_FLAGS)
    if img is None:
        raise UnreadableImageError(
            f'OpenCV cannot decode {path}: the file is corrupt, not an '
            'image, or in a format this OpenCV build does not read.')
    try:
        return to_bgr_uint8(img, path)
    except ValueError as err:
        raise UnreadableImageError(str(err)) from err


@TRANSFORMS.register_module()
class LoadImageBGR8(BaseTransform):
    """Load an image file as 8-bit, 3-channel BGR, whatever it stores.

    A drop-in for ``LoadImageFromFile`` (same keys, BGR like
    ``mmcv.imread``, so ``SegDataPreProcessor(bgr_to_rgb=True)`` applies)
    that also accepts grey, grey + alpha, RGBA and 16-bit files (see
    :func:`read_image_bgr8`) and names the file in every error.

    Required Keys:

    - img_path

    Added Keys:

    - img (np.ndarray[H, W, 3], uint8, BGR)
    - img_shape
    - ori_shape

    Args:
        skip_unreadable (bool): Instead of raising on a missing or
            unreadable file, log a warning naming it and return None;
            mmengine's ``BaseDataset`` then draws another sample in training
            (in ``test_mode`` it raises, as every test image must be read).
            Defaults to False.
        backend_args (dict, optional): mmengine file backend arguments.
            Defaults to None.
    """

    def __init__(self,
                 skip_unreadable: bool = False,
                 backend_args: Optional[dict] = None) -> None:
        self.skip_unreadable = skip_unreadable
        self.backend_args = backend_args

    def transform(self, results: dict) -> Optional[dict]:
        """Read ``results['img_path']`` into ``results['img']``."""
        path = results['img_path']
        try:
            img = read_image_bgr8(path, self.backend_args)
        except OSError as err:
            if not self.skip_unreadable:
                raise
            print_log(
                f'Skipped an unreadable image: {err}',
                logger='current',
                level=logging.WARNING)
            return None
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(skip_unreadable='
                f'{self.skip_unreadable}, backend_args={self.backend_args})')
