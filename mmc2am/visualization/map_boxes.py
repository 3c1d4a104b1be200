"""Draw an object map over its image, with predicted and ground-truth boxes.
"""
from typing import Optional, Sequence

import cv2
import numpy as np
import torch
from mmengine.visualization import Visualizer


def draw_map_and_boxes(visualizer: Visualizer,
                       img: np.ndarray,
                       obj_map: np.ndarray,
                       pred_boxes: np.ndarray,
                       gt_boxes: np.ndarray,
                       scale: int = 1,
                       alpha: float = 0.5,
                       pred_color: str = 'g',
                       gt_color: str = 'r',
                       line_width: Optional[float] = None) -> np.ndarray:
    """Paint a map as a heat overlay and draw boxes, through mmengine.

    The map is drawn by :meth:`Visualizer.draw_featmap` (min-max normalised,
    JET colours, blended with the image), then the ground-truth and the
    predicted boxes by :meth:`Visualizer.draw_bboxes`.

    Args:
        visualizer (Visualizer): Any mmengine visualizer (e.g. mmseg's
            ``SegLocalVisualizer``); its current image is replaced.
        img (np.ndarray[H, W, 3]): The image, RGB uint8.
        obj_map (np.ndarray[H, W]): The object map, any range.
        pred_boxes (np.ndarray[K, 4]): Predicted ``[x0, y0, x1, y1]`` boxes
            in image pixels (K may be 0).
        gt_boxes (np.ndarray[G, 4]): Ground-truth boxes, same frame.
        scale (int): Enlarge image, map and boxes by this factor first, so
            small images stay readable. Defaults to 1.
        alpha (float): Weight of the heat map in the blend. Defaults to 0.5.
        pred_color (str): Colour of predicted boxes. Defaults to 'g'.
        gt_color (str): Colour of ground-truth boxes. Defaults to 'r'.
        line_width (float, optional): Box line width. Defaults to None:
            ``max(1, scale)``.

    Returns:
        np.ndarray[H * scale, W * scale, 3]: The drawing, RGB uint8.
    """
    img = np.ascontiguousarray(img)
    obj_map = np.asarray(obj_map, dtype=np.float32)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f'img must be RGB np.ndarray[H, W, 3]; got shape '
                         f'{img.shape}.')
    if obj_map.shape != img.shape[:2]:
        raise ValueError(f'the map has shape {obj_map.shape} but the image '
                         f'{img.shape[:2]}; resize the map to the image.')
    if scale != 1:
        size = (img.shape[1] * scale, img.shape[0] * scale)
        img = cv2.resize(img, size, interpolation=cv2.INTER_NEAREST)
        obj_map = cv2.resize(obj_map, size, interpolation=cv2.INTER_LINEAR)
    heat = visualizer.draw_featmap(
        torch.from_numpy(obj_map)[None],
        overlaid_image=img,
        channel_reduction='squeeze_mean',
        alpha=alpha)
    visualizer.set_image(heat)
    width = max(1.0, float(scale)) if line_width is None else line_width
    # Pixel-edge boxes may end on the image edge (x1 = W): keep them in.
    last = np.array([img.shape[1], img.shape[0]] * 2, np.float64) - 1
    for boxes, color in ((gt_boxes, gt_color), (pred_boxes, pred_color)):
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4) * scale
        boxes = np.clip(boxes, 0, last)
        if len(boxes):
            visualizer.draw_bboxes(
                torch.from_numpy(boxes), edge_colors=color,
                line_widths=width)
    return visualizer.get_image()


def grid(images: Sequence[np.ndarray], columns: int = 4,
         pad: int = 4) -> np.ndarray:
    """Tile equally sized images row by row on a white canvas.

    Args:
        images (Sequence[np.ndarray[H, W, 3]]): Images of one shape.
        columns (int): Images per row. Defaults to 4.
        pad (int): White pixels between images. Defaults to 4.

    Returns:
        np.ndarray: The mosaic, uint8.
    """
    if len(images) == 0:
        raise ValueError('grid() needs at least one image.')
    h, w = images[0].shape[:2]
    rows = -(-len(images) // columns)
    canvas = np.full((rows * (h + pad) + pad, columns * (w + pad) + pad, 3),
                     255, np.uint8)
    for index, image in enumerate(images):
        top = pad + (index // columns) * (h + pad)
        left = pad + (index % columns) * (w + pad)
        canvas[top:top + h, left:left + w] = image
    return canvas
