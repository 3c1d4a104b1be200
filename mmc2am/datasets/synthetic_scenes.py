"""A data set of procedural scenes, generated on the fly from a seed."""
from typing import Dict, List, Optional, Tuple, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmseg.registry import DATASETS

from .image_folder import OBJECT_METAINFO
from .synthetic import SHAPE_FAMILIES, TEXTURES, generate_scene

# What ``gt_label`` holds, by ``label_type``.
LABEL_TYPES = ('shape', 'texture', 'textures', 'shapes_textures')
# What ``gt_seg_map`` holds, by ``seg_labels``.
SEG_LABELS = ('binary', 'textures')
# The multi-class variant: each object's texture is its class.
TEXTURE_CLASS_METAINFO = dict(
    classes=('background', ) + TEXTURES,
    palette=[[0, 0, 0], [230, 25, 75], [60, 180, 75], [255, 225, 25],
             [0, 130, 200]])


def texture_class_map(scene: dict) -> np.ndarray:
    """The class map of a scene whose object classes are their textures.

    Args:
        scene (dict): A :func:`generate_scene` result.

    Returns:
        np.ndarray[H, W]: uint8, 0 on background and ``1 + t`` on an object
        of texture ``t`` (index into :data:`TEXTURES`).
    """
    ids = np.concatenate([[0], scene['textures'] + 1]).astype(np.uint8)
    return ids[scene['instances']]


@DATASETS.register_module()
class SyntheticScenesDataset(BaseDataset):
    """Procedural scenes with object masks and boxes; nothing to download.

    Scene ``i`` is ``generate_scene((seed, i), img_size, **scene_cfg)``
    (see :mod:`mmc2am.datasets.synthetic`), so it is the same in every
    process and every run, and different seeds give disjoint splits (the
    base config uses seed 0 for training, 1 for validation, 2 for test).
    Scenes are generated when a sample is fetched (a few ms at 128 x 128)
    and not stored.

    Each sample enters the pipeline already loaded, so the pipeline needs
    no loading transform:

    - ``img`` (np.ndarray[H, W, 3], uint8, BGR like ``mmcv.imread``)
    - ``gt_seg_map`` (np.ndarray[H, W], uint8), by ``seg_labels``:
      ``'binary'``: 1 on objects, 0 elsewhere; ``'textures'`` (the
      multi-class WSSS variant): ``1 + t`` on an object of texture ``t``,
      0 elsewhere (:func:`texture_class_map`). ``seg_fields=['gt_seg_map']``
      so mmseg transforms follow it
    - ``gt_bboxes`` (np.ndarray[K, 4], float32): pixel-edge xyxy box of
      each object, largest first; mmcv's ``Resize``, ``RandomFlip`` and
      ``CenterCrop`` update them
    - ``gt_bboxes_labels`` (np.ndarray[K], int64): each object's shape
      family (index into ``dataset_meta['shape_families']``)
    - ``gt_label``: the image-level class of an initialisation stage,
      by ``label_type``:

      - ``'shape'`` (int): the shape family of the largest object;
      - ``'texture'`` (int): the texture of the largest object (index into
        ``dataset_meta['textures']``);
      - ``'textures'`` (list[int]): the textures present in the scene, a
        multi-label target for ``GAPClassifier(multi_label=True)``;
      - ``'shapes_textures'`` (list[int]): the shape families present and,
        offset by 4, the textures present (8 multi-label classes).

      These are image-level labels (the analogue of ImageNet's classes):
      they say what is in the scene, never where.
    - ``img_path``: a virtual name, ``synthetic/seed{seed}/{i:05d}.png``
      (no such file exists)
    - ``ori_shape``, ``img_shape``: ``(H, W)``

    ``dataset_meta['classes']`` names the ``gt_seg_map`` ids (mmseg's
    ``IoUMetric`` counts its classes from it): ``('background', 'object')``
    for ``seg_labels='binary'``, ``('background', 'stripes', 'checks',
    'dots', 'spots')`` for ``'textures'`` (:data:`TEXTURE_CLASS_METAINFO`,
    with a palette). With ``'textures'``, ``label_type='textures'`` gives
    the image-level labels of that segmentation task: class ``c`` of
    ``gt_label`` is segmentation class ``c + 1``.

    ``PackSegInputs`` keeps the boxes and labels in each ``SegDataSample``
    when they are in its ``meta_keys`` (as in
    ``configs/_base_/datasets/synthetic_scenes.py``).

    Args:
        num_scenes (int): Number of scenes. Defaults to 1000.
        seed (int): Split seed. Defaults to 0.
        img_size (int | tuple[int, int]): Side, or ``(H, W)``.
            Defaults to 128.
        scene_cfg (dict, optional): Further :func:`generate_scene` arguments
            (``main_size``, ``multi_prob``...). Defaults to None.
        label_type (str): What ``gt_label`` holds, one of
            :data:`LABEL_TYPES` (see above). Defaults to 'shape'.
        seg_labels (str): What ``gt_seg_map`` holds, one of
            :data:`SEG_LABELS` (see above). Defaults to 'binary'.
        cache (bool): Keep every generated scene in memory, so each is
            generated once per process (about 28 KB per 96 x 96 scene).
            Worth it when the scenes are fetched for many epochs by few
            workers. Defaults to False.
        **kwargs: Other :class:`mmengine.dataset.BaseDataset` arguments
            (``pipeline``, ``test_mode``, ``indices``...).
    """

    METAINFO = dict(
        **OBJECT_METAINFO, shape_families=SHAPE_FAMILIES, textures=TEXTURES)

    def __init__(self,
                 num_scenes: int = 1000,
                 seed: int = 0,
                 img_size: Union[int, Tuple[int, int]] = 128,
                 scene_cfg: Optional[dict] = None,
                 label_type: str = 'shape',
                 seg_labels: str = 'binary',
                 cache: bool = False,
                 **kwargs) -> None:
        if label_type not in LABEL_TYPES:
            raise ValueError(
                f'SyntheticScenesDataset(label_type="{label_type}"): use one '
                f'of {LABEL_TYPES}.')
        if seg_labels not in SEG_LABELS:
            raise ValueError(
                f'SyntheticScenesDataset(seg_labels="{seg_labels}"): use one '
                f'of {SEG_LABELS}.')
        if num_scenes < 1:
            raise ValueError(
                f'SyntheticScenesDataset(num_scenes={num_scenes}) must be '
                '>= 1.')
        self.num_scenes = num_scenes
        self.seed = seed
        if not isinstance(img_size, int):
            img_size = tuple(img_size)
        self.img_size = img_size
        self.scene_cfg = dict(scene_cfg or {})
        self.label_type = label_type
        self.seg_labels = seg_labels
        self.cache = cache
        self._scenes: Dict[int, dict] = {}
        if seg_labels == 'textures':
            kwargs['metainfo'] = dict(TEXTURE_CLASS_METAINFO,
                                      **(kwargs.get('metainfo') or {}))
        super().__init__(**kwargs)

    def load_data_list(self) -> List[dict]:
        """One ``dict(img_path, scene_index)`` per scene."""
        return [
            dict(
                img_path=f'synthetic/seed{self.seed}/{index:05d}.png',
                scene_index=index) for index in range(self.num_scenes)
        ]

    def get_data_info(self, idx: int) -> dict:
        """The ``idx``-th sample with its scene generated (see above)."""
        info = super().get_data_info(idx)
        scene = self._scene(info['scene_index'])
        shape = scene['img'].shape[:2]
        info.update(
            img=scene['img'],
            gt_seg_map=(scene['mask'] if self.seg_labels == 'binary' else
                        texture_class_map(scene)),
            gt_bboxes=scene['boxes'],
            gt_bboxes_labels=scene['labels'],
            gt_label=self._label(scene),
            ori_shape=shape,
            img_shape=shape,
            seg_fields=['gt_seg_map'])
        return info

    def _scene(self, index: int) -> dict:
        """Scene ``index``, generated (or taken from the cache)."""
        scene = self._scenes.get(index)
        if scene is None:
            scene = generate_scene((self.seed, index), self.img_size,
                                   **self.scene_cfg)
            if self.cache:
                self._scenes[index] = scene
        return scene

    def _label(self, scene: dict) -> Union[int, List[int]]:
        """The ``gt_label`` of a scene, by ``label_type``."""
        if self.label_type == 'shape':
            return scene['label']
        if self.label_type == 'texture':
            return int(scene['textures'][0])
        textures = sorted(set(scene['textures'].tolist()))
        if self.label_type == 'textures':
            return textures
        shapes = sorted(set(scene['labels'].tolist()))
        return shapes + [len(SHAPE_FAMILIES) + t for t in textures]
