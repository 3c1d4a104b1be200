"""tools/infer_cams.py: saved CAMs against hand-assembled multi-scale CAMs
of a tiny classifier, the IRN file layout, resuming and the bad cases."""
import os

import cv2
import infer_cams
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import tiny_classifier_cfg, write_model_files

from mmc2am.apis.multiscale import multiscale_cams
from mmc2am.functional.pseudo_labels import read_cams

MEAN = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1)
STD = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)
# Images (H, W) and their present classes (0-based, of 3).
IMAGES = dict(a=((30, 40), [0, 2]), b=((37, 23), [1]), c=((20, 20), []))


@pytest.fixture
def setup(tmp_path, one_thread):
    """Images, their label file, a config and the checkpoint of a tiny
    classifier. Returns (argv prefix, model, image folder, output)."""
    root = tmp_path / 'img'
    root.mkdir()
    rng = np.random.default_rng(0)
    lines = []
    for name, (shape, classes) in IMAGES.items():
        img = rng.integers(0, 256, shape + (3, ), dtype=np.uint8)
        cv2.imwrite(str(root / f'{name}.png'), img)
        lines.append(' '.join([name] + [str(c) for c in classes]))
    labels = tmp_path / 'labels.txt'
    labels.write_text('\n'.join(lines) + '\n')
    cfg_path = str(tmp_path / 'cfg.py')
    checkpoint = str(tmp_path / 'cls.pth')
    model = write_model_files(
        dict(default_scope='mmseg', model=tiny_classifier_cfg(3)), cfg_path,
        checkpoint)
    out = tmp_path / 'cams'
    argv = [
        cfg_path, checkpoint, '--img-dir',
        str(root), '--labels',
        str(labels), '--out-dir',
        str(out), '--workers', '0'
    ]
    return argv, model, root, out


def _expected(model, img_path, classes, scales):
    """Fused CAMs by explicit steps: normalise (RGB, mean/std), resize by
    each scale, class maps ``W . Z`` of the image and its flip (flipped
    back), then per class ReLU, bilinear resize to the image, sum, divide
    by the maximum."""
    img = cv2.imread(str(img_path))
    height, width = img.shape[:2]
    x = torch.from_numpy(img[..., ::-1].copy()).permute(2, 0, 1)[None]
    x = (x.float() - MEAN) / STD
    weight = model.classifier.weight[:, :, 0, 0]  # [3, C]
    sums = np.zeros((len(classes), height, width), np.float32)
    with torch.no_grad():
        for s in scales:
            xs = F.interpolate(
                x,
                size=(round(height * s), round(width * s)),
                mode='bilinear',
                align_corners=False)
            for flipped in (False, True):
                inp = xs.flip(-1) if flipped else xs
                cams = torch.einsum('kc,nchw->nkhw', weight,
                                    model.extract_feat(inp))[0]
                if flipped:
                    cams = cams.flip(-1)
                for k, c in enumerate(classes):
                    sums[k] += cv2.resize(
                        cams[c].clamp(min=0).numpy(), (width, height),
                        interpolation=cv2.INTER_LINEAR)
    return sums / sums.max(axis=(1, 2), keepdims=True)


def test_cams_equal_hand_assembled_reference(setup, capsys):
    argv, model, root, out = setup
    assert infer_cams.main(argv + ['--scales', '0.5', '1.0', '1.5']) == 0
    printed = capsys.readouterr().out
    assert '2 CAM files written' in printed
    assert '1 images without a foreground class skipped' in printed
    assert 'no foreground class' in printed and '\n  c' in printed
    assert sorted(os.listdir(out)) == ['a.npy', 'b.npy', 'settings.json']
    for name in ('a', 'b'):
        shape, classes = IMAGES[name]
        saved = np.load(out / f'{name}.npy', allow_pickle=True).item()
        assert saved['keys'].dtype == np.int64
        assert saved['keys'].tolist() == classes
        assert saved['hr_cam'].dtype == np.float16
        assert saved['hr_cam'].shape == (len(classes), ) + shape
        expected = _expected(model, root / f'{name}.png', classes,
                             (0.5, 1.0, 1.5))
        assert expected.std() > 0.05  # maps with structure
        np.testing.assert_allclose(saved['hr_cam'], expected, atol=1e-3)
        assert (saved['hr_cam'].max(axis=(1, 2)) == 1).all()
        # read_cams sees IRN keys: class ids are keys + 1.
        cams, class_ids = read_cams(str(out / f'{name}.npy'))
        assert class_ids.tolist() == [c + 1 for c in classes]
        np.testing.assert_allclose(cams, expected, atol=1e-3)


def test_each_class_is_normalised_by_its_own_maximum(setup):
    """A class whose weights are 5x another's gets the same fused map; the
    channel order is that of the given classes."""
    _, model, root, _ = setup
    with torch.no_grad():
        model.classifier.weight[1] = 5 * model.classifier.weight[0]
    img = cv2.imread(str(root / 'a.png'))
    cams = multiscale_cams(model, img, [2, 1, 0], (0.5, 1.0))
    np.testing.assert_allclose(cams[1], cams[2], atol=1e-6)
    assert cams[1].max() == 1 and cams[1].std() > 0.05
    np.testing.assert_allclose(
        cams,
        _expected(model, root / 'a.png', [2, 1, 0], (0.5, 1.0)),
        atol=1e-5)
    with pytest.raises(ValueError, match=r'in \[0, 3\)'):
        multiscale_cams(model, img, [3])
    with pytest.raises(ValueError, match='distinct'):
        multiscale_cams(model, img, [1, 1])


def test_rerun_writes_nothing_and_other_settings_refused(setup, capsys):
    argv, _, _, out = setup
    argv = argv + ['--scales', '1.0', '--no-flip', '--dtype', 'float32']
    assert infer_cams.main(argv) == 0
    assert np.load(
        out / 'a.npy', allow_pickle=True).item()['hr_cam'].dtype == np.float32
    mtimes = {f: os.stat(out / f).st_mtime_ns for f in os.listdir(out)}
    capsys.readouterr()
    assert infer_cams.main(argv) == 0
    assert '0 CAM files written to' in capsys.readouterr().out
    assert {f: os.stat(out / f).st_mtime_ns for f in os.listdir(out)} == mtimes
    with pytest.raises(ValueError, match='scales'):
        infer_cams.main(argv[:-5] + ['--scales', '0.5'])


def test_bad_images_listed_and_strict(setup, capsys):
    argv, _, root, out = setup
    labels = argv[argv.index('--labels') + 1]
    with open(labels, 'a') as f:
        f.write('empty 1\nmissing 0\n')
    (root / 'empty.png').write_bytes(b'')
    assert infer_cams.main(argv + ['--scales', '1.0']) == 0
    printed = capsys.readouterr().out
    assert '2 images not mapped' in printed
    assert 'Image file is empty (0 bytes)' in printed
    assert 'missing.png: image file not found' in printed
    assert sorted(os.listdir(out)) == ['a.npy', 'b.npy', 'settings.json']
    assert infer_cams.main(argv + ['--scales', '1.0', '--strict']) == 1
    # Images without a foreground class alone do not fail --strict.
    with open(labels, 'w') as f:
        f.write('a 0\nc\n')
    assert infer_cams.main(argv + ['--scales', '1.0', '--strict']) == 0


def test_bad_label_files(setup):
    argv, _, root, _ = setup
    labels = argv[argv.index('--labels') + 1]
    with open(labels, 'w') as f:
        f.write('a 0\nb 3\n')
    with pytest.raises(
            ValueError,
            match='labels.txt gives 1 images class '
            r'indices >= 3.*b: \[3\]'):
        infer_cams.main(argv)
    with open(labels, 'w') as f:
        f.write('nowhere 0\n')
    with pytest.raises(FileNotFoundError, match='--img-suffix'):
        infer_cams.main(argv)
