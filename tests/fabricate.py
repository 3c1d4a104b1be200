"""Tiny fake data trees in the layouts of method.md section 7, for tests.

Every image is a flat colour that identifies it (:func:`colour_of`), so a
test can tell which file a pipeline read. Images are 40 x 30 (W x H).
"""
import json
import os
import os.path as osp
from typing import Dict, List, Tuple

import cv2
import numpy as np

SIZE = (30, 40)  # (H, W)


def colour_of(index: int) -> Tuple[int, int, int]:
    """The BGR colour of fabricated image ``index`` (distinct for < 40)."""
    return (10 + 6 * index, 200 - 5 * index, (37 * index) % 256)


def write_image(path: str, index: int = 0) -> str:
    """Write a flat-colour 8-bit BGR image; the format follows the suffix."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    img = np.empty(SIZE + (3, ), np.uint8)
    img[:] = colour_of(index)
    if not cv2.imwrite(path, img):
        raise OSError(f'could not write {path}')
    return path


def write_text(path: str, lines: List[str]) -> str:
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(''.join(line + '\n' for line in lines))
    return path


def image_folder(root: str) -> List[str]:
    """A nested folder of images in several formats, plus non-images.

    Returns the relative paths of the images, sorted; the k-th has colour k.
    """
    names = ['a.jpg', 'b/c.png', 'b/d/e.BMP', 'f.webp', 'g.tiff']
    for index, name in enumerate(names):
        write_image(osp.join(root, name), index)
    write_text(osp.join(root, 'notes.txt'), ['not an image'])
    write_image(osp.join(root, '.hidden', 'h.jpg'))
    write_image(osp.join(root, '.i.png'))
    return names


def cub(root: str) -> Dict[str, List[str]]:
    """``CUB_200_2011``: 2 classes x 3 images, split 1/0/1 per class.

    Returns ``dict(train=[...], test=[...])`` relative image paths in
    ``images.txt`` order.
    """
    classes = ['001.Black_footed_Albatross', '002.Laysan_Albatross']
    lines, splits, boxes, labels = [], [], [], []
    result = dict(train=[], test=[])
    for c, folder in enumerate(classes):
        for k in range(3):
            image_id = 3 * c + k + 1
            name = f'{folder}/{folder[4:]}_{k:04d}_{image_id}.jpg'
            write_image(osp.join(root, 'images', name), image_id)
            is_train = int(k != 1)
            lines.append(f'{image_id} {name}')
            splits.append(f'{image_id} {is_train}')
            boxes.append(f'{image_id} 2.0 3.0 20.0 15.0')
            labels.append(f'{image_id} {c + 1}')
            result['train' if is_train else 'test'].append(name)
    write_text(osp.join(root, 'images.txt'), lines)
    write_text(osp.join(root, 'train_test_split.txt'), splits)
    write_text(osp.join(root, 'bounding_boxes.txt'), boxes)
    write_text(osp.join(root, 'image_class_labels.txt'), labels)
    write_text(
        osp.join(root, 'classes.txt'),
        [f'{c + 1} {name}' for c, name in enumerate(classes)])
    return result


def ilsvrc(root: str) -> List[str]:
    """ILSVRC 2012: ``train/<wnid>/*.JPEG`` and ``val/`` images + box XMLs.

    Returns the relative training image paths (under ``train/``), sorted.
    """
    names = []
    for w, wnid in enumerate(['n01440764', 'n01443537']):
        for k in range(2):
            name = f'{wnid}/{wnid}_{1000 + k}.JPEG'
            write_image(osp.join(root, 'train', name), 2 * w + k)
            names.append(name)
    val = 'ILSVRC2012_val_00000001'
    write_image(osp.join(root, 'val', f'{val}.JPEG'), 9)
    write_text(
        osp.join(root, 'val', f'{val}.xml'), [
            '<annotation><filename>' + val + '</filename><size><width>40'
            '</width><height>30</height></size><object><name>n01440764'
            '</name><bndbox><xmin>2</xmin><ymin>3</ymin><xmax>30</xmax>'
            '<ymax>20</ymax></bndbox></object></annotation>'
        ])
    return sorted(names)


def voc(root: str) -> Dict[str, List[str]]:
    """``VOC2012`` with SBD: images, class PNGs and the three id lists.

    Returns ``dict(train=..., train_aug=..., val=...)`` image ids.
    """
    ids = [f'2007_{k:06d}' for k in range(1, 7)]
    for k, image_id in enumerate(ids):
        write_image(osp.join(root, 'JPEGImages', f'{image_id}.jpg'), k)
        label = np.zeros(SIZE, np.uint8)
        label[5:20, 5:25] = k + 1
        for folder in ('SegmentationClass', 'SegmentationClassAug'):
            os.makedirs(osp.join(root, folder), exist_ok=True)
            cv2.imwrite(osp.join(root, folder, f'{image_id}.png'), label)
    lists = dict(train=ids[:2], train_aug=ids[:5], val=ids[5:])
    for split, names in lists.items():
        write_text(
            osp.join(root, 'ImageSets', 'Segmentation', f'{split}.txt'), names)
    return lists


def truncated_jpeg(path: str) -> str:
    """A JPEG cut in the middle of its scan data (libjpeg still decodes)."""
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    data = cv2.imencode('.jpg', img)[1].tobytes()
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])
    return path


def rgba_png(path: str) -> str:
    """BGRA PNG: pixel (0, 0) is BGR (10, 20, 30), alpha 0; the rest is
    BGR (40, 50, 60), alpha 255."""
    img = np.empty(SIZE + (4, ), np.uint8)
    img[:] = (40, 50, 60, 255)
    img[0, 0] = (10, 20, 30, 0)
    cv2.imwrite(path, img)
    return path


def png16(path: str) -> str:
    """16-bit BGR PNG: pixel (0, 0) is (65535, 25700, 0), i.e. 8-bit
    (255, 100, 0); the rest is (257 * 7, 32896, 514), i.e. (7, 128, 2)."""
    img = np.empty(SIZE + (3, ), np.uint16)
    img[:] = (257 * 7, 32896, 514)
    img[0, 0] = (65535, 25700, 0)
    cv2.imwrite(path, img)
    return path


def grey_png(path: str, bits: int = 8) -> str:
    """Single-channel PNG: pixel (0, 0) is 200 (8-bit value), the rest 50."""
    dtype, factor = (np.uint8, 1) if bits == 8 else (np.uint16, 257)
    img = np.full(SIZE, 50 * factor, dtype)
    img[0, 0] = 200 * factor
    cv2.imwrite(path, img)
    return path


def not_an_image(path: str) -> str:
    """A text file with an image suffix."""
    return write_text(path, ['this is not a PNG'])


# ------------------------------------------------- ground truth for WSOL
def cub_masks(root: str, names: List[str]) -> List[str]:
    """CUB masks ``segmentations/<class>/<name>.png`` for images of
    :func:`cub`: 255 inside the box (rows 3-17, columns 2-21), a soft 100
    border column at 22, 0 elsewhere. Returns the mask paths."""
    paths = []
    for name in names:
        mask = np.zeros(SIZE, np.uint8)
        mask[3:18, 2:22] = 255
        mask[3:18, 22] = 100
        path = osp.join(root, 'segmentations', osp.splitext(name)[0] + '.png')
        os.makedirs(osp.dirname(path), exist_ok=True)
        cv2.imwrite(path, mask)
        paths.append(path)
    return paths


def voc_xml(path: str, objects: List[Tuple[str, List[float]]]) -> str:
    """A Pascal-VOC-style box file: ``objects`` are (name, [x0, y0, x1,
    y1])."""
    parts = ['<annotation><size><width>40</width><height>30</height></size>']
    for name, (x0, y0, x1, y1) in objects:
        parts.append(f'<object><name>{name}</name><bndbox><xmin>{x0}</xmin>'
                     f'<ymin>{y0}</ymin><xmax>{x1}</xmax><ymax>{y1}</ymax>'
                     '</bndbox></object>')
    parts.append('</annotation>')
    return write_text(path, [''.join(parts)])


def ilsvrc_boxes(root: str) -> Dict[str, List[str]]:
    """:func:`ilsvrc` plus ``val_boxes/``: val 1 (box [2, 3, 30, 20], class
    n01440764), val 2 (two n01443537 boxes [1, 1, 10, 10] and [12, 4, 39,
    29]); val 3 has no box file. ``train_boxes/`` has the first training
    image's ([5, 5, 25, 25]).

    Returns ``dict(val=..., train=...)`` relative image paths (sorted).
    """
    train = ilsvrc(root)
    val = [f'ILSVRC2012_val_{k:08d}.JPEG' for k in (1, 2, 3)]
    for k, name in enumerate(val[1:], 2):
        write_image(osp.join(root, 'val', name), 10 + k)
    voc_xml(
        osp.join(root, 'val_boxes', 'ILSVRC2012_val_00000001.xml'),
        [('n01440764', [2, 3, 30, 20])])
    voc_xml(
        osp.join(root, 'val_boxes', 'ILSVRC2012_val_00000002.xml'),
        [('n01443537', [1, 1, 10, 10]), ('n01443537', [12, 4, 39, 29])])
    voc_xml(
        osp.join(root, 'train_boxes',
                 osp.splitext(train[0])[0] + '.xml'),
        [('n01440764', [5, 5, 25, 25])])
    return dict(val=val, train=train)


def coco_boxes(root: str) -> dict:
    """``images/`` and ``boxes.json`` in COCO format:

    - ``a.jpg`` (40 x 30, colour 0): boxes [2, 3, 20, 15] (x, y, w, h;
      category 7 'cat') and [25, 5, 10, 20] (category 3 'ant');
    - ``b/c.png`` (40 x 30, colour 1): no annotation;
    - ``small.png`` (10 x 8, colour 2): box [1, 2, 6, 4], category 3.

    Categories sorted by id: 3 'ant' -> 0, 7 'cat' -> 1. Returns the json
    content.
    """
    write_image(osp.join(root, 'images', 'a.jpg'), 0)
    write_image(osp.join(root, 'images', 'b', 'c.png'), 1)
    small = np.empty((8, 10, 3), np.uint8)
    small[:] = colour_of(2)
    cv2.imwrite(osp.join(root, 'images', 'small.png'), small)
    content = dict(
        images=[
            dict(id=1, file_name='a.jpg', height=30, width=40),
            dict(id=5, file_name='b/c.png', height=30, width=40),
            dict(id=9, file_name='small.png', height=8, width=10),
        ],
        annotations=[
            dict(
                id=1,
                image_id=1,
                category_id=7,
                bbox=[2, 3, 20, 15],
                area=300,
                iscrowd=0),
            dict(
                id=2,
                image_id=1,
                category_id=3,
                bbox=[25, 5, 10, 20],
                area=200,
                iscrowd=0),
            dict(
                id=3,
                image_id=9,
                category_id=3,
                bbox=[1, 2, 6, 4],
                area=24,
                iscrowd=0),
        ],
        categories=[dict(id=7, name='cat'),
                    dict(id=3, name='ant')])
    with open(osp.join(root, 'boxes.json'), 'w') as f:
        json.dump(content, f)
    return content
