"""configs/wsss build and train on tiny trees; tools/predict_cues.py."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.runner import Runner
from mmseg.registry import DATASETS, MODELS

from mmc2am.apis.pseudo_label_files import labels_from_files
from mmc2am.functional.pseudo_labels import load_label_map, save_label_map
from mmc2am.utils.png import write_png

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SIZE = 32


def config(name: str) -> Config:
    return Config.fromfile(osp.join(ROOT, 'configs', 'wsss', name))


def image(index: int) -> np.ndarray:
    """A grey image with a bright square whose place depends on index."""
    img = np.full((SIZE, SIZE, 3), 40, np.uint8)
    img[4 + index:20 + index, 6:22] = 220
    return img


def square(index: int, value: int) -> np.ndarray:
    label = np.zeros((SIZE, SIZE), np.uint8)
    label[4 + index:20 + index, 6:22] = value
    return label


@pytest.fixture(scope='module')
def scenes(tmp_path_factory):
    """A tiny tree in the layout of ``export_scenes.py --layout voc``, with
    cues and pseudo labels: 4 training, 2 validation, 2 test images."""
    root = tmp_path_factory.mktemp('scenes_voc')
    splits = dict(train=4, val=2, test=2)
    for split, num in splits.items():
        ids = [f'{split}_{i:05d}' for i in range(num)]
        for i, image_id in enumerate(ids):
            write_png(str(root / 'JPEGImages' / f'{image_id}.png'), image(i))
            save_label_map(
                str(root / 'SegmentationClass' / f'{image_id}.png'),
                square(i, 1 + i % 4))
            save_label_map(
                str(root / 'cues' / f'{image_id}.png'), square(i, 255))
            save_label_map(
                str(root / 'pseudo_labels' / f'{image_id}.png'),
                square(i, 1 + i % 4))
        (root / 'ImageSets' / 'Segmentation').mkdir(
            parents=True, exist_ok=True)
        (root / 'ImageSets' / 'Segmentation' / f'{split}.txt').write_text(
            ''.join(i + '\n' for i in ids))
    return root


def tiny_run(cfg: Config, data_root, work_dir, iters: int = 2) -> Config:
    """Point a scenes config at ``data_root`` and shorten it for CPU."""
    cfg.work_dir = str(work_dir)
    cfg.model.backbone.init_cfg = None
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(key):
            cfg[key].dataset.data_root = str(data_root)
            cfg[key].batch_size = 2
    cfg.train_cfg.max_iters = iters
    cfg.train_cfg.val_interval = iters
    cfg.param_scheduler[0].end = iters
    cfg.default_hooks.checkpoint.interval = iters
    cfg.default_hooks.logger.interval = 1
    return cfg


def test_pseudo_scenes_config_trains_and_validates(scenes, tmp_path,
                                                   one_thread):
    cfg = tiny_run(config('deeplabv3_r18_pseudo_scenes.py'), scenes, tmp_path)
    runner = Runner.from_cfg(cfg)
    sample = runner.train_dataloader.dataset[0]
    # The training labels are the pseudo labels (5 classes).
    assert runner.train_dataloader.dataset.metainfo['classes'] == (
        'background', 'stripes', 'checks', 'dots', 'spots')
    assert set(np.unique(sample['data_samples'].gt_sem_seg.data)) <= {0, 1}
    runner.train()
    assert osp.isfile(tmp_path / 'iter_2.pth')
    metrics = runner.val_loop.run()
    assert 0 <= metrics['mIoU'] <= 100


def test_cue_refine_scenes_config_reads_cues_as_binary(scenes, tmp_path,
                                                       one_thread):
    cfg = tiny_run(config('cue_refine_r18_scenes.py'), scenes, tmp_path)
    assert cfg.model.decode_head.num_classes == 2
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    info = dataset.get_data_info(1)
    assert info['seg_map_path'].endswith(osp.join('cues', 'train_00001.png'))
    labels = Compose(
        cfg.train_dataloader.dataset.pipeline[:2])(info)['gt_seg_map']
    np.testing.assert_array_equal(labels, square(1, 1))
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert osp.isfile(tmp_path / 'iter_2.pth')


@pytest.fixture(scope='module')
def voc(tmp_path_factory):
    """A tiny VOC2012 tree: 2 train_aug images with CAMs (classes 3 and
    15), cues and pseudo labels."""
    root = tmp_path_factory.mktemp('VOC2012')
    for i, image_id in enumerate(('2007_000001', '2007_000002')):
        path = root / 'JPEGImages' / f'{image_id}.jpg'
        path.parent.mkdir(exist_ok=True)
        cv2.imwrite(str(path), image(i))
        cams = np.stack([square(i, 1) * 0.9, np.full((SIZE, SIZE), 0.2)])
        (root / 'cams').mkdir(exist_ok=True)
        np.save(root / 'cams' / f'{image_id}.npy',
                dict(keys=np.array([2, 14]), high_res=cams))
        save_label_map(str(root / 'cues' / f'{image_id}.png'), square(i, 255))
        save_label_map(
            str(root / 'pseudo_labels' / f'{image_id}.png'), square(i, 3))
    (root / 'ImageSets' / 'Segmentation').mkdir(parents=True)
    (root / 'ImageSets' / 'Segmentation' /
     'train_aug.txt').write_text('2007_000001\n2007_000002\n')
    return root


@pytest.mark.parametrize('name, label', [
    ('deeplabv3plus_r50_pseudo_voc.py', 'pseudo'),
    ('deeplabv3plus_r50_cams_voc.py', 'refined'),
    ('cue_refine_r50_voc.py', 'cue'),
])
def test_voc_configs_build_and_load_their_labels(voc, name, label):
    cfg = config(name)
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg.data_root = str(voc)
    pipeline = dataset_cfg.pipeline
    for transform in pipeline:
        if transform.type == 'LoadRefinedCAMLabel':
            transform.cam_dir = str(voc / 'cams')
            transform.cue_dir = str(voc / 'cues')
    dataset = DATASETS.build(dataset_cfg)
    assert len(dataset) == 2
    if label == 'pseudo':
        loaded = Compose(pipeline[:2])(dataset.get_data_info(1))
        np.testing.assert_array_equal(loaded['gt_seg_map'], square(1, 3))
    elif label == 'refined':
        loaded = Compose(pipeline[:2])(dataset.get_data_info(1))
        # Inside the cue square class 3 (CAM 0.9 > 0.2), outside background.
        expected = labels_from_files(
            str(voc / 'cams' / '2007_000002.npy'),
            str(voc / 'cues' / '2007_000002.png'))
        np.testing.assert_array_equal(loaded['gt_seg_map'], expected)
        np.testing.assert_array_equal(expected, square(1, 3))
    else:
        loaded = Compose(pipeline[:2])(dataset.get_data_info(1))
        np.testing.assert_array_equal(loaded['gt_seg_map'], square(1, 1))
    # The whole training pipeline runs.
    sample = dataset[0]
    assert sample['inputs'].shape == (3, 512, 512)
    num_classes = 2 if label == 'cue' else 21
    model = MODELS.build(cfg.model)
    assert model.decode_head.num_classes == num_classes
    if label == 'cue':
        assert type(model.backbone).__name__ == 'ResNet'
        assert cfg.model.backbone.init_cfg.type == 'PretrainedAnyPrefix'


def tiny_cue_model(tmp_path, bias):
    """The cue-refinement config's model with a constant output: zero
    classifier weights and ``bias`` (background, object) logits, saved as a
    checkpoint."""
    cfg = config('cue_refine_r18_scenes.py')
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    conv = model.decode_head.conv_seg
    with torch.no_grad():
        conv.weight.zero_()
        conv.bias.copy_(torch.tensor(bias))
    path = str(tmp_path / f'model_{bias[1]}.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return path


def predict(tmp_path, checkpoint, out, *extra):
    import predict_cues
    return predict_cues.main([
        osp.join(ROOT, 'configs', 'wsss', 'cue_refine_r18_scenes.py'),
        checkpoint, '--img-dir',
        str(tmp_path / 'img'), '--out-dir',
        str(out), '--workers', '0', '--device', 'cpu', *extra
    ])


def test_predict_cues_values_resume_and_bad_images(tmp_path, capsys,
                                                   one_thread):
    write_png(str(tmp_path / 'img' / 'a.png'), image(0))
    write_png(
        str(tmp_path / 'img' / 'sub' / 'b.png'), np.zeros((20, 24, 3),
                                                          np.uint8))
    (tmp_path / 'img' / 'bad.jpg').write_bytes(b'not an image')
    # Logits (0, 0): foreground probability 1/2 everywhere.
    half = tiny_cue_model(tmp_path, [0.0, 0.0])
    out = tmp_path / 'soft'
    assert predict(tmp_path, half, out, '--soft') == 0
    cue = load_label_map(str(out / 'sub' / 'b.png'))
    assert cue.shape == (20, 24)
    np.testing.assert_array_equal(cue, 128)  # round(127.5), half to even
    text = capsys.readouterr().out
    assert '2 cues written' in text and '1 images not predicted' in text
    assert 'bad.jpg' in text
    assert not osp.exists(out / 'bad.png')
    # Thresholds on the same probability.
    assert predict(tmp_path, half, tmp_path / 't5', '--threshold', '0.5') == 0
    np.testing.assert_array_equal(
        load_label_map(str(tmp_path / 't5' / 'a.png')), 255)
    assert predict(tmp_path, half, tmp_path / 't6', '--threshold', '0.6') == 0
    np.testing.assert_array_equal(
        load_label_map(str(tmp_path / 't6' / 'a.png')), 0)
    # Argmax: object logit 1 > 0 gives 255; -1 gives 0.
    assert predict(tmp_path, tiny_cue_model(tmp_path, [0.0, 1.0]),
                   tmp_path / 'fg') == 0
    np.testing.assert_array_equal(
        load_label_map(str(tmp_path / 'fg' / 'a.png')), 255)
    assert predict(tmp_path, tiny_cue_model(tmp_path, [0.0, -1.0]),
                   tmp_path / 'bg') == 0
    np.testing.assert_array_equal(
        load_label_map(str(tmp_path / 'bg' / 'a.png')), 0)
    # Resume: existing outputs are kept; --strict reports the bad image.
    mtime = os.stat(out / 'a.png').st_mtime_ns
    capsys.readouterr()
    assert predict(tmp_path, half, out, '--soft', '--strict') == 1
    text = capsys.readouterr().out
    assert '0 cues written' in text and '2 already there' in text
    assert os.stat(out / 'a.png').st_mtime_ns == mtime
    with pytest.raises(
            ValueError,
            match=r"other settings \(\['soft', "
            r"'threshold'\] differ"):
        predict(tmp_path, half, out, '--threshold', '0.5')
    # Another set of images (here: a list of one of them) into the same
    # folder is refused too.
    (tmp_path / 'one.txt').write_text('a\n')
    with pytest.raises(ValueError, match=r"other settings \(\['images'\] "
                       r"differ"):
        predict(tmp_path, half, out, '--soft', '--list',
                str(tmp_path / 'one.txt'))
    with pytest.raises(FileNotFoundError, match='checkpoint .* does not'):
        predict(tmp_path, str(tmp_path / 'none.pth'), tmp_path / 'x')


def test_predict_cues_writes_the_models_argmax(scenes, tmp_path, one_thread):
    """A trained (not constant) model: the cue is 255 where its argmax is
    the object."""
    import predict_cues
    cfg = config('cue_refine_r18_scenes.py')
    cfg.model.backbone.init_cfg = None
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    with torch.no_grad():
        model.decode_head.conv_seg.bias.copy_(torch.tensor([0.0, 0.02]))
    checkpoint = str(tmp_path / 'model.pth')
    torch.save(dict(state_dict=model.state_dict()), checkpoint)
    img_dir = scenes / 'JPEGImages'
    out = tmp_path / 'cues'
    assert predict_cues.main([
        osp.join(ROOT, 'configs', 'wsss', 'cue_refine_r18_scenes.py'),
        checkpoint, '--img-dir',
        str(img_dir), '--out-dir',
        str(out), '--workers', '0', '--device', 'cpu'
    ]) == 0
    model.eval()
    sample = Compose(predict_cues.PIPELINE)(
        dict(img_path=str(img_dir / 'train_00001.png')))
    with torch.no_grad():
        [result] = model.test_step(
            dict(
                inputs=[sample['inputs']],
                data_samples=[sample['data_samples']]))
    expected = result.pred_sem_seg.data[0].numpy().astype(np.uint8) * 255
    assert 0 < (expected == 255).sum() < expected.size  # not constant
    np.testing.assert_array_equal(
        load_label_map(str(out / 'train_00001.png')), expected)


def test_every_wsss_config_is_covered():
    """Every config under configs/wsss is built by a test of this file."""
    found = set(os.listdir(osp.join(ROOT, 'configs', 'wsss')))
    assert found == {
        'cue_refine_r18_scenes.py', 'deeplabv3_r18_pseudo_scenes.py',
        'cue_refine_r50_voc.py', 'deeplabv3plus_r50_pseudo_voc.py',
        'deeplabv3plus_r50_cams_voc.py'
    }


def test_foreground_cue_reads_c2am_logit_maps():
    """A C2AM sample holding logits (map_space='logit') is thresholded on
    its sigmoid; one holding probabilities, as it is."""
    import predict_cues
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    logits = torch.tensor([[[-2.0, 0.0, 0.5, 3.0]]])  # P .12 .5 .62 .95
    sample = SegDataSample(metainfo=dict(map_space='logit'))
    sample.seg_logits = PixelData(data=logits)
    np.testing.assert_array_equal(
        predict_cues.foreground_cue(sample, threshold=0.6), [[0, 0, 255,
                                                              255]])
    np.testing.assert_array_equal(
        predict_cues.foreground_cue(sample, soft=True),
        [[30, 128, 159, 243]])  # round(255 * P)
    as_probability = SegDataSample(metainfo=dict(map_space='probability'))
    as_probability.seg_logits = PixelData(data=logits.sigmoid())
    np.testing.assert_array_equal(
        predict_cues.foreground_cue(as_probability, threshold=0.6),
        [[0, 0, 255, 255]])
