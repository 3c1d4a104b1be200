"""Datasets and transforms (registered into mmseg's registries)."""
from .coco_boxes import CocoBoxDataset
from .cub import CUBImageDataset
from .cub_boxes import CUBBoxDataset
from .ilsvrc_boxes import ILSVRCBoxDataset, read_voc_boxes
from .image_folder import IMG_EXTENSIONS, ImageFolderDataset
from .image_labels import (ImageLabelDataset, read_image_labels,
                           write_image_labels)
from .synthetic import SHAPE_FAMILIES, generate_scene
from .synthetic_scenes import SyntheticScenesDataset
from .transforms import LoadImageBGR8
from .transforms.wsol_annotations import LoadWSOLAnnotations

__all__ = [
    'CUBImageDataset', 'IMG_EXTENSIONS', 'ImageFolderDataset', 'LoadImageBGR8',
    'SHAPE_FAMILIES', 'SyntheticScenesDataset', 'generate_scene',
    'CUBBoxDataset', 'CocoBoxDataset', 'ILSVRCBoxDataset',
    'LoadWSOLAnnotations', 'read_voc_boxes', 'ImageLabelDataset',
    'read_image_labels', 'write_image_labels'
]
