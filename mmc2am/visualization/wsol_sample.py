"""Draw one predicted WSOL sample: heat map, predicted and true boxes."""
from typing import Optional

import numpy as np
from mmengine.visualization import Visualizer

from mmc2am.datasets.transforms import read_image_bgr8
from mmc2am.functional.boxes import maps_to_boxes
from .map_boxes import draw_map_and_boxes


def draw_wsol_sample(visualizer: Visualizer,
                     img: Optional[np.ndarray],
                     sample,
                     threshold: float,
                     scale: int = 1) -> np.ndarray:
    """Paint a sample's map over its image with the box of the map's
    largest contour at ``threshold`` (green) and the ground truth (red).

    The drawing is in the frame of the map (``seg_logits``): the
    transformed input ``img`` when the map has its size (C2AM with
    ``test_cfg.output_frame='img_shape'``), where the ground-truth boxes
    (``gt_bboxes`` of the metainfo, in the input's frame) are drawn too;
    else, when the map has the original size, the original image read from
    ``img_path``, without ground truth (it is in another frame). A map
    with no contour at ``threshold`` gets no predicted box.

    Args:
        visualizer (Visualizer): Any mmengine visualizer.
        img (np.ndarray[H, W, 3], optional): The transformed input, RGB
            uint8. None reads the original image.
        sample (SegDataSample): A prediction of :class:`C2AM`.
        threshold (float): Box threshold ``tau``.
        scale (int): Enlarge the drawing by this factor. Defaults to 1.

    Returns:
        np.ndarray: The drawing, RGB uint8.

    Raises:
        ValueError: The map fits neither the input nor the original image.
    """
    obj_map = sample.seg_logits.data[0].float().cpu().numpy()
    gt = np.zeros((0, 4))
    if img is not None and img.shape[:2] == obj_map.shape:
        gt = np.asarray(sample.get('gt_bboxes', gt), np.float64)
    elif tuple(sample.ori_shape[:2]) == obj_map.shape:
        img = np.ascontiguousarray(read_image_bgr8(sample.img_path)[..., ::-1])
        if tuple(sample.get('img_shape', ())[:2]) == obj_map.shape:
            gt = np.asarray(sample.get('gt_bboxes', gt), np.float64)
    else:
        raise ValueError(
            f'the map of {sample.img_path} is {obj_map.shape}, neither the '
            'input\'s nor the original image\'s size.')
    box = maps_to_boxes(obj_map[None], [threshold])[0]
    pred = box[(box[:, 2:] > box[:, :2]).any(1)]  # [0, 0, 0, 0]: no contour
    return draw_map_and_boxes(visualizer, img, obj_map, pred, gt, scale)


def input_rgb(inputs) -> np.ndarray:
    """A packed input (Tensor[3, H, W], BGR uint8) as RGB np.ndarray."""
    img = inputs.permute(1, 2, 0).cpu().numpy()[..., ::-1]
    return np.ascontiguousarray(img.astype(np.uint8))
