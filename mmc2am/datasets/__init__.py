"""Datasets and transforms (registered into mmseg's registries)."""
from .cub import CUBImageDataset
from .image_folder import IMG_EXTENSIONS, ImageFolderDataset
from .synthetic import SHAPE_FAMILIES, generate_scene
from .synthetic_scenes import SyntheticScenesDataset
from .transforms import LoadImageBGR8

__all__ = [
    'CUBImageDataset', 'IMG_EXTENSIONS', 'ImageFolderDataset', 'LoadImageBGR8',
    'SHAPE_FAMILIES', 'SyntheticScenesDataset', 'generate_scene'
]
