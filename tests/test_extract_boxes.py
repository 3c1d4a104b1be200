"""tools/extract_boxes.py: boxes mapped back to the original image against
hand-computed values, the hard cases, resuming, and the COCO json read by
pycocotools and mmdet's CocoDataset."""
import json
import os.path as osp

import cv2
import extract_boxes
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.structures import PixelData
from mmseg.registry import MODELS

# 40 x 30 images, black with a white rectangle on columns 10-29 and rows
# 6-17, i.e. the pixel-edge box [10, 6, 30, 18] (COCO [10, 6, 20, 12]).
RECT = (slice(6, 18), slice(10, 30))
# Resize to 80 x 60 (x2, nearest), centre crop 72 x 52 (offset 4, 4): the
# rectangle covers columns 16-55 and rows 8-31 of the crop.
PIPELINE = [
    dict(type='LoadImageBGR8'),
    dict(
        type='Resize',
        scale=(80, 60),
        keep_ratio=False,
        interpolation='nearest'),
    dict(type='CenterCrop', crop_size=(72, 52)),
    dict(type='PackSegInputs'),
]


class MapOfImage(torch.nn.Module):
    """Stands in for a C2AM: the map is the input's first channel, and NaN
    for an image whose first pixel is 123."""

    def __init__(self):
        super().__init__()
        self.data_preprocessor = MODELS.build(dict(type='SegDataPreProcessor'))
        self.predicted = 0

    def predict(self, inputs, data_samples):
        for x, sample in zip(inputs, data_samples):
            m = x[:1].float()
            if m[0, 0, 0] == 123:
                m = torch.full_like(m, float('nan'))
            sample.set_data(dict(seg_logits=PixelData(data=m)))
            self.predicted += 1
        return data_samples


@pytest.fixture
def fake_model(monkeypatch):
    model = MapOfImage()
    monkeypatch.setattr(extract_boxes, 'init_c2am',
                        lambda cfg, checkpoint, device: model)
    return model


def _image(path, value=255, shape=(30, 40), rect=RECT):
    img = np.zeros(shape + (3, ), np.uint8)
    img[rect] = value
    cv2.imwrite(str(path), img)


def _tree(tmp_path, pipeline=PIPELINE):
    images = tmp_path / 'images'
    (images / 'sub').mkdir(parents=True)
    _image(images / 'a.png')
    _image(images / 'sub' / 'b.png')
    _image(images / 'constant.png', 0)  # an empty map
    small = np.zeros((8, 10, 3), np.uint8)  # smaller than the crop
    small[2:6, 4:9] = 255
    cv2.imwrite(str(images / 'small.png'), small)
    cfg = Config(
        dict(
            default_scope='mmseg',
            test_pipeline=pipeline,
            train_dataloader=dict(
                dataset=dict(type='ImageFolderDataset', data_root=str(
                    images)))))
    cfg.dump(str(tmp_path / 'cfg.py'))
    ckpt = tmp_path / 'model.pth'
    ckpt.write_bytes(b'weights')
    return str(tmp_path / 'cfg.py'), str(ckpt)


def _run(cfg, ckpt, out, *extra):
    return extract_boxes.main([
        cfg, ckpt, '--threshold', '0.5', '--out', out, '--workers', '0',
        '--batch-size', '2', *extra
    ])


def _boxes(out):
    content = json.load(open(out))
    names = {im['id']: im['file_name'] for im in content['images']}
    return content, {
        names[a['image_id']]: a['bbox']
        for a in content['annotations']
    }


def test_boxes_in_original_pixels_and_hard_cases(tmp_path, fake_model):
    cfg, ckpt = _tree(tmp_path)
    out = str(tmp_path / 'out' / 'boxes.json')
    assert _run(cfg, ckpt, out) == 0
    content, boxes = _boxes(out)
    # Crop box [16, 8, 56, 32] -> ((16 + 4) / 2, (8 + 4) / 2, ...).
    assert boxes['a.png'] == [10, 6, 20, 12]
    assert boxes['sub/b.png'] == [10, 6, 20, 12]
    # 10 x 8 -> 80 x 60 (x8, x7.5), crop offset (4, 4): columns 4-8 and
    # rows 2-5 come back as [4, 2, 9, 6], exactly.
    assert boxes['small.png'] == [4, 2, 5, 4]
    # The constant map gives no box: listed, kept without annotation.
    assert 'constant.png' not in boxes
    assert content['info']['counts'] == dict(
        ok=3, empty=1, bad_map=0, unreadable=0)
    assert [im['file_name'] for im in content['images']
            ] == ['a.png', 'constant.png', 'small.png', 'sub/b.png']
    assert content['images'][2]['height'] == 8
    assert content['categories'] == [{'id': 1, 'name': 'object'}]
    ann = content['annotations'][0]
    assert ann['area'] == 240 and ann['iscrowd'] == 0
    assert ann['category_id'] == 1
    assert content['info']['image_root'] == str(tmp_path / 'images')

    # --on-empty whole: the whole image instead (another output file).
    out2 = str(tmp_path / 'out' / 'whole.json')
    _run(cfg, ckpt, out2, '--on-empty', 'whole')
    assert _boxes(out2)[1]['constant.png'] == [0, 0, 40, 30]


def test_json_loads_in_pycocotools_and_mmdet(tmp_path, fake_model):
    cfg, ckpt = _tree(tmp_path)
    out = str(tmp_path / 'boxes.json')
    _run(cfg, ckpt, out)
    from pycocotools.coco import COCO
    coco = COCO(out)
    assert len(coco.getImgIds()) == 4 and len(coco.getAnnIds()) == 3
    assert coco.loadCats(coco.getCatIds())[0]['name'] == 'object'
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    from mmdet.registry import DATASETS
    dataset = DATASETS.build(
        dict(
            type='CocoDataset',
            data_root=str(tmp_path),
            ann_file='boxes.json',
            data_prefix=dict(img='images/'),
            metainfo=dict(classes=('object', )),
            filter_cfg=dict(filter_empty_gt=True),
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='LoadAnnotations', with_bbox=True),
                dict(type='PackDetInputs')
            ]))
    assert len(dataset) == 3  # the image without box is filtered out
    sample = dataset[0]['data_samples']
    assert sample.img_path == str(tmp_path / 'images' / 'a.png')
    np.testing.assert_allclose(sample.gt_instances.bboxes.tensor,
                               [[10, 6, 30, 18]])
    assert sample.gt_instances.labels.tolist() == [0]


def test_no_crop_when_the_image_is_smaller(tmp_path, fake_model):
    """mmcv's CenterCrop keeps an image smaller than the crop whole."""
    pipeline = [
        PIPELINE[0],
        dict(type='CenterCrop', crop_size=64), PIPELINE[-1]
    ]
    cfg, ckpt = _tree(tmp_path, pipeline)
    out = str(tmp_path / 'boxes.json')
    _run(cfg, ckpt, out)
    boxes = _boxes(out)[1]
    assert boxes['a.png'] == [10, 6, 20, 12]
    assert boxes['small.png'] == [4, 2, 5, 4]


def test_bad_images_listed_strict_and_resume(tmp_path, fake_model, capsys):
    cfg, ckpt = _tree(tmp_path)
    images = tmp_path / 'images'
    (images / 'broken.png').write_text('not a png')
    _image(images / 'nan.png', 123, rect=(slice(None), slice(None)))
    out = str(tmp_path / 'boxes.json')
    assert _run(cfg, ckpt, out) == 0
    printed = capsys.readouterr().out
    assert 'broken.png' in printed and 'NaN' in printed
    content, boxes = _boxes(out)
    assert content['info']['counts'] == dict(
        ok=3, empty=1, bad_map=1, unreadable=1)
    assert 'broken.png' not in [im['file_name'] for im in content['images']]
    assert fake_model.predicted == 5
    first = open(out).read()
    # A second run maps nothing (the unreadable image is tried again and
    # still fails) and writes the same json; --strict makes it fail.
    assert _run(cfg, ckpt, out, '--strict') == 1
    assert fake_model.predicted == 5
    assert open(out).read() == first
    # A kill during an append leaves a cut line: it is dropped, and only
    # the images without a whole line are mapped again.
    sidecar = out + '.jsonl'
    lines = open(sidecar).read().splitlines(keepends=True)
    kept = [line for line in lines if '"a.png"' not in line]
    open(sidecar, 'w').write(''.join(kept) + '{"index": 0, "file_na')
    _run(cfg, ckpt, out)
    assert fake_model.predicted == 6
    assert open(out).read() == first
    records = [json.loads(line) for line in open(sidecar)]  # all whole
    assert sum(r.get('file_name') == 'a.png' for r in records) == 1
    # Other settings are refused.
    with pytest.raises(ValueError, match=r"\['threshold'\] differ"):
        extract_boxes.main(
            [cfg, ckpt, '--threshold', '0.3', '--out', out, '--workers', '0'])
    assert not [p for p in (tmp_path).iterdir() if p.name.endswith('.tmp')]


def test_flipping_or_overcropping_pipelines_are_refused(tmp_path, fake_model):
    flip = [PIPELINE[0], dict(type='RandomFlip', prob=1.0), PIPELINE[-1]]
    cfg, ckpt = _tree(tmp_path, flip)
    with pytest.raises(ValueError, match='flipped'):
        _run(cfg, ckpt, str(tmp_path / 'a.json'))
    crop = [PIPELINE[0], dict(type='CenterCrop', crop_size=4), PIPELINE[-1]]
    cfg, ckpt = _tree(tmp_path / 'c', crop)
    with pytest.raises(ValueError, match='central half'):
        _run(cfg, ckpt, str(tmp_path / 'b.json'))
    assert osp.isfile(str(tmp_path / 'b.json.jsonl'))
