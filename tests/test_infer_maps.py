"""tools/infer_maps.py: the saved map against a hand-assembled multi-scale
map, the two polarity modes, resuming, unreadable images, and the images of
--img-dir [--list] against those of the config's dataset."""
import os
import os.path as osp

import cv2
import fabricate
import infer_maps
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import tiny_c2am_cfg, write_model_files

from mmc2am.apis.dataset_items import build_folder_dataset, output_names
from mmc2am.functional.cues import fuse_multiscale

MEAN = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1)
STD = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)
# Two textured images of different sizes (H, W).
SHAPES = dict(noise_a=(30, 40), noise_b=(37, 23))


@pytest.fixture
def setup(tmp_path):
    """Images, an image-folder config and the checkpoint of a tiny C2AM
    whose polarity is flipped. Returns (config path, checkpoint, model,
    image folder)."""
    root = tmp_path / 'img'
    rng = np.random.default_rng(0)
    for name, shape in SHAPES.items():
        root.mkdir(exist_ok=True)
        img = rng.integers(0, 256, shape + (3, ), dtype=np.uint8)
        cv2.imwrite(str(root / f'{name}.png'), img)
    cfg = dict(
        default_scope='mmseg',
        model=tiny_c2am_cfg(),
        train_dataloader=dict(
            dataset=dict(type='ImageFolderDataset', data_root=str(root))))
    cfg_path = str(tmp_path / 'cfg.py')
    checkpoint = str(tmp_path / 'c2am.pth')
    model = write_model_files(cfg, cfg_path, checkpoint, polarity=True)
    return cfg_path, checkpoint, model, root


def _expected(img_path, scales, orient):
    """The fused map by explicit steps: normalise (RGB, mean/std), resize
    by each scale, map the image and its flip (flipped back), orient with
    ``orient``, then fuse_multiscale."""
    img = cv2.imread(str(img_path))
    x = torch.from_numpy(img[..., ::-1].copy()).permute(2, 0, 1)[None]
    x = (x.float() - MEAN) / STD
    height, width = img.shape[:2]
    maps = []
    with torch.no_grad():
        for s in scales:
            xs = F.interpolate(
                x, size=(round(height * s), round(width * s)),
                mode='bilinear', align_corners=False)
            maps.append(orient(xs)[0, 0])
            maps.append(orient(xs.flip(-1))[0, 0].flip(-1))
    return fuse_multiscale(maps, (height, width))


def test_map_equals_hand_assembled_reference(setup, tmp_path):
    cfg_path, checkpoint, model, root = setup
    out = tmp_path / 'maps'
    code = infer_maps.main([
        cfg_path, checkpoint, '--out', str(out), '--scales', '0.5', '1.0',
        '--workers', '0'
    ])
    assert code == 0
    for name, shape in SHAPES.items():
        saved = np.load(out / f'{name}.npy')
        expected = _expected(root / f'{name}.png', (0.5, 1.0),
                             lambda x: model(x, mode='tensor'))
        assert saved.dtype == np.float16 and saved.shape == shape
        assert expected.std() > 0.05  # a map with structure
        np.testing.assert_allclose(saved, expected, atol=1e-3)
        assert saved.max() == 1 and saved.min() >= 0


def test_polarity_modes(setup, tmp_path):
    cfg_path, checkpoint, model, root = setup

    def raw(x):
        return model.head(model.extract_feat(x))['logits']

    for mode, orient in (('sign', lambda x: -raw(x)),
                         ('reference', lambda x: 1 - raw(x))):
        out = tmp_path / mode
        infer_maps.main([
            cfg_path, checkpoint, '--out', str(out), '--scales', '1.0',
            '--polarity', mode, '--workers', '0'
        ])
        expected = _expected(root / 'noise_a.png', (1.0, ), orient)
        np.testing.assert_allclose(
            np.load(out / 'noise_a.npy'), expected, atol=1e-3)
    sign = np.load(tmp_path / 'sign' / 'noise_a.npy').astype(np.float32)
    ref = np.load(tmp_path / 'reference' / 'noise_a.npy').astype(np.float32)
    assert np.abs(sign - ref).max() > 0.01


def test_rerun_writes_nothing_and_other_settings_refused(
        setup, tmp_path, capsys):
    cfg_path, checkpoint, _, _ = setup
    out = tmp_path / 'maps'
    argv = [
        cfg_path, checkpoint, '--out', str(out), '--scales', '1.0',
        '--no-flip', '--overlays', '--workers', '0'
    ]
    assert infer_maps.main(argv) == 0
    files = sorted(
        osp.join(d, f) for d, _, fs in os.walk(out) for f in fs)
    assert len(files) == 2 * len(SHAPES) + 1  # maps, overlays, settings
    overlay = cv2.imread(str(out / 'overlays' / 'noise_b.png'))
    assert overlay.shape == SHAPES['noise_b'] + (3, )
    mtimes = {f: os.stat(f).st_mtime_ns for f in files}
    capsys.readouterr()
    assert infer_maps.main(argv) == 0
    assert '0 maps written' in capsys.readouterr().out
    assert {f: os.stat(f).st_mtime_ns for f in files} == mtimes
    with pytest.raises(ValueError, match='polarity'):
        infer_maps.main(argv + ['--polarity', 'reference'])
    # A checkpoint retrained and saved at the same path: refused too, so
    # maps of the old model are not resumed as if they were the new one's.
    state = torch.load(checkpoint, map_location='cpu', weights_only=False)
    state['meta'] = dict(state.get('meta') or {}, retrained=True)
    torch.save(state, checkpoint)
    with pytest.raises(ValueError, match=r"\['checkpoint_sha256'\] differ"):
        infer_maps.main(argv)


def test_truncated_jpeg_listed(setup, tmp_path, capsys):
    cfg_path, checkpoint, _, root = setup
    fabricate.truncated_jpeg(str(root / 'cut.jpg'))
    argv = [
        cfg_path, checkpoint, '--out', str(tmp_path / 'maps'), '--scales',
        '1.0', '--no-flip', '--workers', '0'
    ]
    assert infer_maps.main(argv) == 0
    printed = capsys.readouterr().out
    assert 'Images not mapped' in printed and 'cut.jpg' in printed
    assert sorted(os.listdir(tmp_path / 'maps')) == [
        'noise_a.npy', 'noise_b.npy', 'settings.json'
    ]
    assert infer_maps.main(argv + ['--strict']) == 1


def test_img_dir_maps_equal_the_config_dataset_route(setup, tmp_path,
                                                     capsys):
    cfg_path, checkpoint, _, root = setup
    (root / 'sub').mkdir()
    os.link(root / 'noise_b.png', root / 'sub' / 'noise_c.png')
    common = [cfg_path, checkpoint, '--scales', '0.5', '1.0', '--workers', '0']
    assert infer_maps.main(common + ['--out', str(tmp_path / 'cfg')]) == 0
    # The whole folder: sub-folders kept in the output names.
    scan = tmp_path / 'scan'
    assert infer_maps.main(common +
                           ['--img-dir', str(root), '--out', str(scan)]) == 0
    for name in ('noise_a', 'noise_b'):
        np.testing.assert_array_equal(
            np.load(scan / f'{name}.npy'),
            np.load(tmp_path / 'cfg' / f'{name}.npy'))
    np.testing.assert_array_equal(
        np.load(scan / 'sub' / 'noise_c.npy'),
        np.load(tmp_path / 'cfg' / 'noise_c.npy'))
    # A list: first words (an image-level label line, a bare name), the
    # ending found from the first image; a missing image listed at the end.
    names = tmp_path / 'names.txt'
    names.write_text('# image labels\nnoise_b 0 2\n\nmissing\nnoise_a\n')
    listed = tmp_path / 'listed'
    argv = common + [
        '--img-dir', str(root), '--list', str(names), '--out', str(listed)
    ]
    capsys.readouterr()
    assert infer_maps.main(argv) == 0
    printed = capsys.readouterr().out
    assert '2 maps written' in printed and '1 images not mapped' in printed
    assert f'{root / "missing.png"}: image file not found' in printed
    assert sorted(os.listdir(listed)) == [
        'noise_a.npy', 'noise_b.npy', 'settings.json'
    ]
    for name in ('noise_a', 'noise_b'):
        np.testing.assert_array_equal(
            np.load(listed / f'{name}.npy'),
            np.load(tmp_path / 'cfg' / f'{name}.npy'))
    assert infer_maps.main(argv + ['--strict']) == 1
    # The image source is a setting: one --out holds one set of images.
    other = tmp_path / 'val.txt'
    other.write_text('noise_a\n')
    with pytest.raises(ValueError, match=r"\['images'\] differ"):
        infer_maps.main(common + [
            '--img-dir', str(root), '--list', str(other), '--out', str(listed)
        ])
    with pytest.raises(ValueError, match=r"\['images'\] differ"):
        infer_maps.main(common + ['--out', str(scan)])
    with pytest.raises(ValueError, match=r"\['images'\] differ"):
        infer_maps.main(common + [
            '--out', str(tmp_path / 'cfg'), '--cfg-options',
            'train_dataloader.dataset.recursive=False'
        ])


def test_img_dir_bad_arguments(setup, tmp_path, capsys):
    cfg_path, checkpoint, _, root = setup
    common = [cfg_path, checkpoint, '--out', str(tmp_path / 'maps')]
    for extra in (['--list', 'x.txt'], ['--img-dir', str(root), '--split',
                                        'val'], ['--img-suffix', '.png']):
        with pytest.raises(SystemExit):
            infer_maps.main(common + extra)
    assert 'go with --img-dir' in capsys.readouterr().err
    with pytest.raises(FileNotFoundError, match='nowhere does not exist'):
        infer_maps.main(common + ['--img-dir', str(tmp_path / 'nowhere')])
    with pytest.raises(FileNotFoundError, match='list file .*none.txt'):
        infer_maps.main(
            common +
            ['--img-dir', str(root), '--list', str(tmp_path / 'none.txt')])
    names = tmp_path / 'names.txt'
    names.write_text('noise_z\n')
    with pytest.raises(FileNotFoundError, match='--img-suffix'):
        infer_maps.main(common +
                        ['--img-dir', str(root), '--list', str(names)])
    assert not osp.exists(tmp_path / 'maps')


def test_output_names(setup):
    _, _, _, root = setup
    # Listed names with an explicit ending: the names themselves.
    names = root.parent / 'names.txt'
    names.write_text('noise_b\nnoise_a\n')
    dataset = build_folder_dataset(str(root), str(names), '.png')
    assert output_names(dataset, str(root)) == ['noise_b', 'noise_a']
    # One stem, two endings: refused.
    cv2.imwrite(str(root / 'noise_a.jpg'), np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match=r"1 output names .*\['noise_a'\]"):
        output_names(build_folder_dataset(str(root)), str(root))
