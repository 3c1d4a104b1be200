"""Write PNG files atomically."""
import cv2
import numpy as np

from .io import atomic_output


def write_png(path: str, img: np.ndarray) -> str:
    """Encode an image as PNG and write it through :func:`atomic_output`.

    Args:
        path (str): The file; its folder is created.
        img (np.ndarray[H, W] | np.ndarray[H, W, 3]): uint8 (or uint16)
            grey or BGR image, as ``cv2.imwrite`` takes it.

    Returns:
        str: ``path``.

    Raises:
        ValueError: OpenCV cannot encode the array as PNG.
    """
    ok, data = cv2.imencode('.png', np.ascontiguousarray(img))
    if not ok:
        raise ValueError(f'OpenCV could not encode an array of shape '
                         f'{img.shape} ({img.dtype}) as PNG for {path}.')
    with atomic_output(path) as tmp, open(tmp, 'wb') as f:
        f.write(data.tobytes())
    return path
