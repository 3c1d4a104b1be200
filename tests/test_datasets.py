"""Image loading, ImageFolderDataset, CUBImageDataset and the recipe dataset
configs, on fabricated trees and bad images."""
import os
import os.path as osp
from unittest import mock

import cv2
import fabricate
import numpy as np
import pytest
from mmengine.config import Config
from mmseg.registry import DATASETS, TRANSFORMS

from mmc2am.datasets import ImageFolderDataset
from mmc2am.datasets.transforms import (UnreadableImageError, read_image_bgr8,
                                        to_bgr_uint8)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = osp.join(ROOT, 'configs', '_base_', 'datasets')
LOAD_AND_PACK = [dict(type='LoadImageBGR8'), dict(type='PackSegInputs')]


def _pixel(path, y=0, x=0):
    return tuple(int(c) for c in read_image_bgr8(str(path))[y, x])


# --------------------------------------------------------------- conversion
def test_to_bgr_uint8_channels():
    grey = np.array([[0, 200]], np.uint8)
    np.testing.assert_array_equal(
        to_bgr_uint8(grey), [[[0, 0, 0], [200, 200, 200]]])
    np.testing.assert_array_equal(
        to_bgr_uint8(grey[..., None]), to_bgr_uint8(grey))
    grey_alpha = np.array([[[7, 0], [9, 255]]], np.uint8)
    np.testing.assert_array_equal(
        to_bgr_uint8(grey_alpha), [[[7, 7, 7], [9, 9, 9]]])
    bgra = np.array([[[1, 2, 3, 0]]], np.uint8)
    out = to_bgr_uint8(bgra)
    np.testing.assert_array_equal(out, [[[1, 2, 3]]])  # alpha dropped
    assert out.flags.c_contiguous


def test_to_bgr_uint8_16_bit_values():
    # 65535 -> 255, 257 k -> k, 32896 = 128 * 257 -> 128, 514 -> 2, and
    # 32768 / 257 = 127.5 rounds to 128.
    img = np.array([[[65535, 25700, 0], [32896, 514, 32768]]], np.uint16)
    np.testing.assert_array_equal(
        to_bgr_uint8(img), [[[255, 100, 0], [128, 2, 128]]])


@pytest.mark.parametrize('img', [
    np.zeros((2, 2, 3), np.float32),
    np.zeros((2, 2), np.int32),
    np.zeros((2, 2, 5), np.uint8),
])
def test_to_bgr_uint8_rejects_other_images(img):
    with pytest.raises(ValueError, match='some/name.tif'):
        to_bgr_uint8(img, 'some/name.tif')


# ------------------------------------------------------------------ reading
def test_read_converts_rgba_16_bit_and_grey(tmp_path):
    rgba = fabricate.rgba_png(str(tmp_path / 'rgba.png'))
    assert _pixel(rgba) == (10, 20, 30)  # alpha 0 dropped, colour kept
    assert _pixel(rgba, 5, 5) == (40, 50, 60)
    png16 = fabricate.png16(str(tmp_path / 'c16.png'))
    assert _pixel(png16) == (255, 100, 0)
    assert _pixel(png16, 3, 3) == (7, 128, 2)
    for bits in (8, 16):
        grey = fabricate.grey_png(str(tmp_path / f'g{bits}.png'), bits)
        img = read_image_bgr8(grey)
        assert img.shape == fabricate.SIZE + (3, ) and img.dtype == np.uint8
        assert _pixel(grey) == (200, 200, 200)
        assert _pixel(grey, 2, 2) == (50, 50, 50)


def test_read_grey_jpeg(tmp_path):
    path = str(tmp_path / 'g.jpg')
    cv2.imwrite(path, np.full((8, 8), 120, np.uint8))
    img = read_image_bgr8(path)
    assert img.shape == (8, 8, 3)
    assert abs(int(img[4, 4, 0]) - 120) <= 1
    assert (img[..., 0] == img[..., 2]).all()


def test_read_formats_keep_colour(tmp_path):
    for index, ext in enumerate(['png', 'bmp', 'tif', 'webp', 'ppm', 'jpg']):
        path = fabricate.write_image(str(tmp_path / f'x.{ext}'), index)
        expected = np.array(fabricate.colour_of(index))
        tolerance = 0 if ext in ('png', 'bmp', 'tif', 'ppm') else 4
        assert np.abs(read_image_bgr8(path)[10, 10] - expected).max() \
            <= tolerance, ext


def test_read_errors_name_the_file(tmp_path):
    truncated = fabricate.truncated_jpeg(str(tmp_path / 'cut.jpg'))
    assert cv2.imread(truncated) is not None  # OpenCV alone would accept it
    with pytest.raises(UnreadableImageError, match='Truncated JPEG.*cut.jpg'):
        read_image_bgr8(truncated)
    text = fabricate.not_an_image(str(tmp_path / 'fake.png'))
    with pytest.raises(UnreadableImageError, match='cannot decode.*fake.png'):
        read_image_bgr8(text)
    empty = tmp_path / 'empty.jpg'
    empty.write_bytes(b'')
    with pytest.raises(UnreadableImageError, match='empty.*empty.jpg'):
        read_image_bgr8(str(empty))
    with pytest.raises(FileNotFoundError, match='nothere.png'):
        read_image_bgr8(str(tmp_path / 'nothere.png'))
    path = str(tmp_path / 'float.tiff')
    cv2.imwrite(path, np.zeros((4, 4, 3), np.float32))
    with pytest.raises(UnreadableImageError, match='float.tiff: float32'):
        read_image_bgr8(path)


def test_load_transform_sets_keys_and_can_skip(tmp_path):
    path = fabricate.write_image(str(tmp_path / 'a.png'), 3)
    load = TRANSFORMS.build(dict(type='LoadImageBGR8'))
    out = load(dict(img_path=path))
    assert out['img'].shape == fabricate.SIZE + (3, )
    assert out['img_shape'] == out['ori_shape'] == fabricate.SIZE
    assert tuple(out['img'][0, 0]) == fabricate.colour_of(3)

    bad = fabricate.truncated_jpeg(str(tmp_path / 'bad.jpg'))
    with pytest.raises(UnreadableImageError, match='bad.jpg'):
        load(dict(img_path=bad))
    skip = TRANSFORMS.build(dict(type='LoadImageBGR8', skip_unreadable=True))
    with mock.patch('mmc2am.datasets.transforms.loading.print_log') as log:
        assert skip(dict(img_path=bad)) is None
    assert 'bad.jpg' in log.call_args[0][0]


# ------------------------------------------------------------------ folders
def test_folder_scan_is_recursive_sorted_and_filtered(tmp_path):
    names = fabricate.image_folder(str(tmp_path))
    dataset = ImageFolderDataset(data_root=str(tmp_path))
    paths = [dataset.get_data_info(i)['img_path'] for i in range(len(dataset))]
    assert paths == [osp.join(str(tmp_path), name) for name in names]
    assert names == ['a.jpg', 'b/c.png', 'b/d/e.BMP', 'f.webp', 'g.tiff']

    flat = ImageFolderDataset(data_root=str(tmp_path), recursive=False)
    assert len(flat) == 3  # a.jpg, f.webp, g.tiff
    pngs = ImageFolderDataset(
        data_root=str(tmp_path), extensions=('.png', '.bmp'))
    assert len(pngs) == 2


def test_folder_samples_go_through_the_pipeline(tmp_path):
    fabricate.image_folder(str(tmp_path))
    dataset = ImageFolderDataset(
        data_root=str(tmp_path), pipeline=LOAD_AND_PACK)
    for index in range(len(dataset)):
        out = dataset[index]
        assert out['inputs'].shape == (3, ) + fabricate.SIZE
        got = out['inputs'][:, 10, 10].numpy()
        assert np.abs(got - fabricate.colour_of(index)).max() <= 4


def test_folder_errors_name_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match='nowhere'):
        ImageFolderDataset(data_root=str(tmp_path / 'nowhere'))
    with pytest.raises(FileNotFoundError, match='image folder'):
        ImageFolderDataset()
    (tmp_path / 'empty').mkdir()
    fabricate.write_text(str(tmp_path / 'empty' / 'readme.txt'), ['x'])
    with pytest.raises(ValueError, match='no image found in .*empty'):
        ImageFolderDataset(data_root=str(tmp_path / 'empty'))


def test_list_file_keeps_order_and_appends_suffix(tmp_path):
    for k, name in enumerate(['x', 'y', 'z']):
        fabricate.write_image(str(tmp_path / 'img' / f'{name}.jpg'), k)
    fabricate.write_text(
        str(tmp_path / 'list.txt'), ['z', '', '# a comment', '  x  '])
    dataset = ImageFolderDataset(
        data_root=str(tmp_path),
        ann_file='list.txt',
        data_prefix=dict(img_path='img'),
        img_suffix='.jpg')
    assert [dataset.get_data_info(i)['img_path'] for i in range(2)] == [
        osp.join(str(tmp_path), 'img', 'z.jpg'),
        osp.join(str(tmp_path), 'img', 'x.jpg')
    ]


def test_list_naming_missing_images_raises_or_skips(tmp_path):
    fabricate.write_image(str(tmp_path / 'a.png'))
    fabricate.write_text(
        str(tmp_path / 'list.txt'), ['a.png', 'gone1.png', 'gone2.png'])
    kwargs = dict(data_root=str(tmp_path), ann_file='list.txt')
    with pytest.raises(FileNotFoundError) as err:
        ImageFolderDataset(**kwargs)
    assert 'gone1.png' in str(err.value) and 'gone2.png' in str(err.value)
    assert '2 of 3' in str(err.value) and 'skip_missing' in str(err.value)

    with mock.patch('mmc2am.datasets.image_folder.print_log') as log:
        dataset = ImageFolderDataset(skip_missing=True, **kwargs)
    assert len(dataset) == 1
    assert dataset.skipped == [
        osp.join(str(tmp_path), 'gone1.png'),
        osp.join(str(tmp_path), 'gone2.png')
    ]
    assert 'gone1.png' in log.call_args[0][0]

    fabricate.write_text(str(tmp_path / 'none.txt'), ['gone1.png'])
    with pytest.raises(ValueError, match='no image found'):
        ImageFolderDataset(
            data_root=str(tmp_path), ann_file='none.txt', skip_missing=True)
    with pytest.raises(FileNotFoundError, match='list file .*absent.txt'):
        ImageFolderDataset(data_root=str(tmp_path), ann_file='absent.txt')


def test_many_missing_names_are_summarised(tmp_path):
    fabricate.write_text(
        str(tmp_path / 'list.txt'), [f'm{k:02d}.png' for k in range(25)])
    with pytest.raises(FileNotFoundError) as err:
        ImageFolderDataset(data_root=str(tmp_path), ann_file='list.txt')
    assert 'm19.png' in str(err.value) and 'm20.png' not in str(err.value)
    assert '... and 5 more' in str(err.value)


def test_unreadable_image_in_training_is_skipped_in_test_raises(tmp_path):
    fabricate.write_image(str(tmp_path / 'good.png'), 1)
    fabricate.truncated_jpeg(str(tmp_path / 'bad.jpg'))
    pipeline = [
        dict(type='LoadImageBGR8', skip_unreadable=True),
        dict(type='PackSegInputs')
    ]
    train = ImageFolderDataset(data_root=str(tmp_path), pipeline=pipeline)
    assert train.get_data_info(0)['img_path'].endswith('bad.jpg')
    with mock.patch('mmc2am.datasets.transforms.loading.print_log'):
        out = train[0]  # bad.jpg: another sample is drawn instead
    assert out['data_samples'].img_path.endswith('good.png')
    test = ImageFolderDataset(
        data_root=str(tmp_path), pipeline=LOAD_AND_PACK, test_mode=True)
    with pytest.raises(UnreadableImageError, match='bad.jpg'):
        test[0]


# ---------------------------------------------------------------------- CUB
def test_cub_splits(tmp_path):
    expected = fabricate.cub(str(tmp_path))
    for split in ('train', 'test'):
        dataset = DATASETS.build(
            dict(type='CUBImageDataset', data_root=str(tmp_path), split=split))
        paths = [
            dataset.get_data_info(i)['img_path'] for i in range(len(dataset))
        ]
        assert paths == [
            osp.join(str(tmp_path), 'images', name) for name in expected[split]
        ]
    assert len(expected['train']) == 4 and len(expected['test']) == 2
    every = DATASETS.build(
        dict(type='CUBImageDataset', data_root=str(tmp_path), split='all'))
    assert len(every) == 6


def test_cub_errors(tmp_path):
    with pytest.raises(ValueError, match='split="val"'):
        DATASETS.build(dict(type='CUBImageDataset', split='val'))
    with pytest.raises(FileNotFoundError, match='images.txt'):
        DATASETS.build(
            dict(type='CUBImageDataset', data_root=str(tmp_path / 'none')))
    fabricate.cub(str(tmp_path))
    fabricate.write_text(str(tmp_path / 'train_test_split.txt'), ['1 1'])
    with pytest.raises(ValueError, match='no entry for 5 image ids'):
        DATASETS.build(dict(type='CUBImageDataset', data_root=str(tmp_path)))
    fabricate.write_text(str(tmp_path / 'images.txt'), ['1 a.jpg', 'oops'])
    with pytest.raises(ValueError, match='images.txt, line 2'):
        DATASETS.build(dict(type='CUBImageDataset', data_root=str(tmp_path)))


# ------------------------------------------------------------------ configs
# config: (tree maker, images in the training set, crop size)
RECIPES = {
    'image_folder.py': (fabricate.image_folder, 5, 224),
    'cub_train.py': (fabricate.cub, 4, 224),
    'ilsvrc_train.py': (fabricate.ilsvrc, 4, 224),
    'voc_trainaug.py': (fabricate.voc, 5, 448),
}


@pytest.mark.parametrize('name', sorted(RECIPES))
def test_recipe_config_reads_fabricated_tree(name, tmp_path):
    make, length, crop = RECIPES[name]
    make(str(tmp_path))
    cfg = Config.fromfile(osp.join(CONFIGS, name))
    loader = cfg.train_dataloader
    assert loader.drop_last and loader.sampler.shuffle
    loader.dataset.data_root = str(tmp_path)
    dataset = DATASETS.build(loader.dataset)
    assert len(dataset) == length
    out = dataset[0]
    assert out['inputs'].shape == (3, crop, crop)
    # The fabricated images are flat colours; any crop shows that colour.
    first = dataset.get_data_info(0)['img_path']
    expected = read_image_bgr8(first)[0, 0].astype(int)
    assert np.abs(out['inputs'][:, crop // 2, crop // 2].numpy() -
                  expected).max() <= 2


def test_recipe_batch_sizes_and_inputs_follow_the_reference():
    sizes = {
        name: Config.fromfile(osp.join(CONFIGS, name)).train_dataloader
        for name in RECIPES
    }
    assert sizes['cub_train.py'].batch_size == 16
    assert sizes['voc_trainaug.py'].batch_size == 32
    cub = Config.fromfile(osp.join(CONFIGS, 'cub_train.py'))
    assert cub.train_pipeline[1].scale == (256, 256)
    assert cub.train_pipeline[2].crop_size == (224, 224)
    assert cub.test_pipeline[1].scale == (480, 480)
    voc = Config.fromfile(osp.join(CONFIGS, 'voc_trainaug.py'))
    assert voc.train_dataloader.dataset.pipeline[1].scale == (512, 512)
    assert voc.train_dataloader.dataset.pipeline[2].crop_size == (448, 448)


def test_cub_config_with_missing_image_names_it(tmp_path):
    expected = fabricate.cub(str(tmp_path))
    os.remove(osp.join(str(tmp_path), 'images', expected['train'][1]))
    cfg = Config.fromfile(osp.join(CONFIGS, 'cub_train.py'))
    cfg.train_dataloader.dataset.data_root = str(tmp_path)
    with pytest.raises(FileNotFoundError, match=expected['train'][1]):
        DATASETS.build(cfg.train_dataloader.dataset)
    cfg.train_dataloader.dataset.skip_missing = True
    with mock.patch('mmc2am.datasets.image_folder.print_log'):
        assert len(DATASETS.build(cfg.train_dataloader.dataset)) == 3
