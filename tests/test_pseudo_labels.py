import os

import numpy as np
import pytest
import torch
from PIL import Image

from mmc2am.functional.pseudo_labels import (confusion_matrix, load_label_map,
                                             miou_from_confusion, read_cams,
                                             refine_labels, save_label_map,
                                             threshold_labels)

# Image "a": classes 3 and 8, 2 x 3 pixels.
CAMS_A = np.array(
    [[[0.9, 0.2, 0.0], [0.5, 0.1, 0.3]], [[0.1, 0.8, 0.0], [0.6, 0.2, 0.3]]],
    np.float32)
CUE_A = np.array([[255, 255, 0], [255, 0, 255]], np.uint8)
GT_A = np.array([[3, 8, 0], [8, 255, 0]], np.uint8)
# Image "b": class 1 (0-based index 0 in IRN keys).
CAMS_B = np.array([[[0.7, 0.7, 0.7], [0.1, 0.1, 0.1]]], np.float32)
CUE_B = np.array([[255, 255, 255], [0, 0, 0]], np.uint8)
GT_B = np.array([[1, 1, 0], [0, 0, 0]], np.uint8)


def test_refine_labels_by_hand():
    # background 1 - cue = [[0, 0, 1], [0, 1, 0]]; the tie at (1, 2)
    # between classes 3 and 8 goes to the earlier channel.
    labels = refine_labels(CAMS_A, [3, 8], CUE_A / 255)
    np.testing.assert_array_equal(labels, [[3, 8, 0], [8, 0, 3]])
    assert labels.dtype == np.uint8
    # Winning scores [[.9, .8, 1], [.6, 1, .3]]: below 0.7 is ignored.
    labels = refine_labels(CAMS_A, [3, 8], CUE_A / 255, ignore_below=0.7)
    np.testing.assert_array_equal(labels, [[3, 8, 0], [255, 0, 255]])


def test_threshold_labels_by_hand():
    np.testing.assert_array_equal(
        threshold_labels(CAMS_A, [3, 8], 0.35), [[3, 8, 0], [8, 0, 0]])
    # A CAM equal to the threshold loses: ties go to the background.
    np.testing.assert_array_equal(
        threshold_labels(CAMS_A, [3, 8], 0.3), [[3, 8, 0], [8, 0, 0]])
    # No foreground class: all background.
    np.testing.assert_array_equal(
        threshold_labels(np.zeros((0, 2, 3)), [], 0.3), np.zeros((2, 3)))


def test_refinement_rejects_bad_inputs():
    with pytest.raises(ValueError, match='differ in size'):
        refine_labels(CAMS_A, [3, 8], np.zeros((3, 3)))
    with pytest.raises(ValueError, match='K class ids'):
        refine_labels(CAMS_A, [3], CUE_A / 255)
    with pytest.raises(ValueError, match=r'\[1, 254\]'):
        refine_labels(CAMS_A, [0, 8], CUE_A / 255)
    with pytest.raises(ValueError, match='Normalise'):
        threshold_labels(CAMS_A * 5, [3, 8], 0.3)
    with pytest.raises(ValueError, match='NaN'):
        threshold_labels(CAMS_A * np.nan, [3, 8], 0.3)


def write_npy(path, **data):
    np.save(path, data)
    return str(path)


def test_read_cams_layouts(tmp_path):
    # PuzzleCAM / C2AM reference: keys padded with background, 1-based.
    cams, ids = read_cams(
        write_npy(
            tmp_path / 'ref.npy',
            keys=np.array([0, 3, 8]),
            hr_cam=CAMS_A,
            cam=torch.zeros(2, 1, 1)))
    np.testing.assert_array_equal(cams, CAMS_A)
    np.testing.assert_array_equal(ids, [3, 8])
    # IRN: 0-based foreground indices, high_res preferred over cam.
    cams, ids = read_cams(
        write_npy(
            tmp_path / 'irn.npy',
            keys=np.array([2, 7]),
            high_res=CAMS_A,
            cam=torch.zeros(2, 1, 1)))
    np.testing.assert_array_equal(cams, CAMS_A)
    np.testing.assert_array_equal(ids, [3, 8])
    # AMN-style: background channel first, IRN keys.
    with_bg = np.concatenate([np.ones((1, 2, 3), np.float32), CAMS_A])
    cams, ids = read_cams(
        write_npy(
            tmp_path / 'amn.npy', keys=np.array([2, 7]), high_res=with_bg))
    np.testing.assert_array_equal(cams, CAMS_A)
    np.testing.assert_array_equal(ids, [3, 8])
    # A torch tensor under "cam" only, and an .npz archive.
    cams, ids = read_cams(
        write_npy(
            tmp_path / 'tensor.npy',
            keys=np.array([0]),
            cam=torch.from_numpy(CAMS_B)))
    np.testing.assert_array_equal(cams, CAMS_B)
    np.testing.assert_array_equal(ids, [1])
    np.savez(tmp_path / 'arch.npz', keys=np.array([0, 3, 8]), hr_cam=CAMS_A)
    cams, ids = read_cams(str(tmp_path / 'arch.npz'))
    np.testing.assert_array_equal(ids, [3, 8])
    # No foreground class.
    cams, ids = read_cams(
        write_npy(
            tmp_path / 'empty.npy',
            keys=np.array([0]),
            hr_cam=np.zeros((0, 2, 3))))
    assert cams.shape == (0, 2, 3) and len(ids) == 0


def test_read_cams_errors(tmp_path):
    with pytest.raises(ValueError, match='do not match'):
        read_cams(
            write_npy(
                tmp_path / 'x.npy', keys=np.array([1, 2, 3, 4]),
                hr_cam=CAMS_A))
    with pytest.raises(ValueError, match='needs "keys"'):
        read_cams(write_npy(tmp_path / 'y.npy', scores=CAMS_A))
    np.save(tmp_path / 'z.npy', CAMS_A)
    with pytest.raises(ValueError, match='expected a dict'):
        read_cams(str(tmp_path / 'z.npy'))
    with pytest.raises(FileNotFoundError, match='nope.npy'):
        read_cams(str(tmp_path / 'nope.npy'))


def test_confusion_and_miou_by_hand():
    pred = np.array([[0, 1], [1, 255]])
    gt = np.array([[0, 1], [0, 1]])
    confusion = confusion_matrix(pred, gt, 3)
    np.testing.assert_array_equal(confusion, [[1, 1, 0], [0, 1, 0], [0, 0, 0]])
    scores = miou_from_confusion(confusion)
    # Class 0: TP 1, FN 1; class 1: TP 1, FP 1; class 2 absent (NaN).
    np.testing.assert_allclose(scores['iou'][:2], [0.5, 0.5])
    assert np.isnan(scores['iou'][2])
    assert scores['miou'] == pytest.approx(0.5)
    np.testing.assert_allclose(scores['fp'][:2], [0, 0.5])
    np.testing.assert_allclose(scores['fn'][:2], [0.5, 0])
    assert scores['mean_fp'] == pytest.approx(0.5)
    assert scores['mean_fn'] == pytest.approx(0)
    with pytest.raises(ValueError, match=r'class ids \[4\]'):
        confusion_matrix(np.array([[4]]), np.array([[0]]), 3)
    with pytest.raises(ValueError, match='differ in size'):
        confusion_matrix(np.zeros((2, 2)), np.zeros((2, 3)), 3)


def test_label_map_io(tmp_path):
    path = str(tmp_path / 'sub' / 'x.png')
    save_label_map(path, GT_A)
    np.testing.assert_array_equal(load_label_map(path), GT_A)
    assert os.listdir(tmp_path / 'sub') == ['x.png']
    # Palette PNGs (VOC SegmentationClass) read as their indices.
    palette = Image.fromarray(GT_B, mode='P')
    palette.putpalette([0, 0, 0, 128, 0, 0] * 128)
    palette.save(tmp_path / 'p.png')
    np.testing.assert_array_equal(
        load_label_map(str(tmp_path / 'p.png')), GT_B)
    with pytest.raises(ValueError, match='uint8'):
        save_label_map(path, GT_A.astype(np.int64))


@pytest.fixture
def cam_dataset(tmp_path):
    """CAMs, cues and ground truth for two good images and four bad ones."""
    cams, cues, gt = (tmp_path / d for d in ('cams', 'cues', 'gt'))
    for d in (cams, cues, gt):
        d.mkdir()
    write_npy(cams / 'a.npy', keys=np.array([0, 3, 8]), hr_cam=CAMS_A)
    write_npy(cams / 'b.npy', keys=np.array([0]), high_res=CAMS_B)
    write_npy(cams / 'c.npy', keys=np.array([0]), high_res=CAMS_B)
    write_npy(cams / 'd.npy', keys=np.array([0]), high_res=CAMS_B)
    write_npy(cams / 'e.npy', keys=np.array([0]), hr_cam=np.zeros((0, 2, 3)))
    (cams / 'f.npy').write_bytes(b'not a numpy file')
    for name, cue in (('a', CUE_A), ('b', CUE_B), ('d', np.zeros(
        (3, 3))), ('e', CUE_B)):
        save_label_map(str(cues / f'{name}.png'), cue.astype(np.uint8))
    save_label_map(str(gt / 'a.png'), GT_A)
    save_label_map(str(gt / 'b.png'), GT_B)
    return tmp_path


def test_refine_tool_writes_resumes_and_lists(cam_dataset, capsys):
    import refine_cam_labels
    out = cam_dataset / 'labels'
    argv = [
        '--cams',
        str(cam_dataset / 'cams'), '--cues',
        str(cam_dataset / 'cues'), '--out',
        str(out)
    ]
    assert refine_cam_labels.main(argv) == 0
    np.testing.assert_array_equal(
        load_label_map(str(out / 'a.png')), [[3, 8, 0], [8, 0, 3]])
    np.testing.assert_array_equal(
        load_label_map(str(out / 'b.png')), [[1, 1, 1], [0, 0, 0]])
    assert sorted(os.listdir(out)) == ['a.png', 'b.png', 'settings.json']
    text = capsys.readouterr().out
    assert '2 label maps written' in text and '4 images with problems' in text
    assert 'c: ' in text and 'c.png does not exist' in text
    assert 'is 3x3 but the CAMs of' in text and 'd.npy are 2x3' in text
    assert 'e: no foreground class' in text
    assert 'f: ' in text

    # Second run: nothing rewritten; --strict turns the problems into exit 1.
    mtime = os.stat(out / 'a.png').st_mtime_ns
    assert refine_cam_labels.main(argv + ['--strict']) == 1
    assert '0 label maps written' in capsys.readouterr().out
    assert os.stat(out / 'a.png').st_mtime_ns == mtime
    # Cues remade by another checkpoint (their settings.json says so): the
    # labels are not resumed from the old cues' ones.
    (cam_dataset / 'cues' / 'settings.json').write_text(
        '{"checkpoint_sha256": "sha256:0"}')
    with pytest.raises(ValueError, match=r"\['cues_settings'\] differ"):
        refine_cam_labels.main(argv)
    (cam_dataset / 'cues' / 'settings.json').unlink()

    # Baseline, restricted to a list of names (one of them has no CAM),
    # here an image-level label file: a comment, then names with classes.
    names = cam_dataset / 'names.txt'
    names.write_text('# image-level labels\na 2 7\nzz\n')
    base = cam_dataset / 'baseline'
    assert refine_cam_labels.main([
        '--cams',
        str(cam_dataset / 'cams'), '--baseline-threshold', '0.35', '--out',
        str(base), '--list',
        str(names)
    ]) == 0
    np.testing.assert_array_equal(
        load_label_map(str(base / 'a.png')), [[3, 8, 0], [8, 0, 0]])
    text = capsys.readouterr().out
    assert 'zz: no CAM file' in text and '1 images with problems' in text


def test_refine_tool_lists_every_kind_of_problem_in_one_run(
        cam_dataset, capsys):
    """Good images among a missing CAM file, a missing cue, a cue of another
    size and CAM files without a foreground class, in one run: each bad one
    named in the final list with its reason, each good one written."""
    import refine_cam_labels
    cams, cues = cam_dataset / 'cams', cam_dataset / 'cues'
    # g: IRN layout (as tools/infer_cams.py writes) with no class at all.
    write_npy(cams / 'g.npy', keys=np.zeros(0, np.int64),
              hr_cam=np.zeros((0, 2, 3), np.float16))
    # h: a good image listed after the bad ones.
    write_npy(cams / 'h.npy', keys=np.array([0]), high_res=CAMS_B)
    save_label_map(str(cues / 'h.png'), CUE_B)
    names = cam_dataset / 'names.txt'
    names.write_text('a\nzz\nc\nd\ne\ng\nf\nb\nh\n')
    out = cam_dataset / 'labels'
    assert refine_cam_labels.main([
        '--cams', str(cams), '--cues', str(cues), '--out', str(out),
        '--list', str(names), '--strict'
    ]) == 1
    np.testing.assert_array_equal(
        load_label_map(str(out / 'a.png')), [[3, 8, 0], [8, 0, 3]])
    for name in ('b', 'h'):
        np.testing.assert_array_equal(
            load_label_map(str(out / f'{name}.png')), [[1, 1, 1], [0, 0, 0]])
    assert sorted(os.listdir(out)) == [
        'a.png', 'b.png', 'h.png', 'settings.json'
    ]
    text = capsys.readouterr().out
    assert '3 label maps written' in text and '6 images with problems' in text
    listed = text.split('Images not written:\n')[1].splitlines()
    assert [line.split(':')[0].strip() for line in listed] == [
        'zz', 'c', 'd', 'e', 'g', 'f'
    ]
    reasons = dict(line.strip().split(': ', 1) for line in listed)
    assert reasons['zz'].startswith('no CAM file zz.npy or zz.npz in')
    assert reasons['c'].startswith(f'cue file {cues / "c.png"} does not '
                                   'exist')
    assert reasons['d'].startswith(
        f'cue {cues / "d.png"} is 3x3 but the CAMs of {cams / "d.npy"} are '
        '2x3 (height x width): both must be at the size of the image')
    for name in ('e', 'g'):
        assert reasons[name].startswith(
            f'no foreground class in {cams / name}.npy')
    assert reasons['f'].startswith(f'{cams / "f.npy"}: unreadable')


def test_eval_tool_scores_and_sweep(cam_dataset, capsys):
    import eval_pseudo_labels
    import refine_cam_labels
    labels = cam_dataset / 'labels'
    refine_cam_labels.main([
        '--cams',
        str(cam_dataset / 'cams'), '--cues',
        str(cam_dataset / 'cues'), '--out',
        str(labels)
    ])
    capsys.readouterr()
    assert eval_pseudo_labels.main([
        '--pred',
        str(labels), '--gt',
        str(cam_dataset / 'gt'), '--num-classes', '9', '--sweep',
        str(cam_dataset / 'cams'), '--thresholds', '0.35', '0.75', '0.4'
    ]) == 0
    text = capsys.readouterr().out
    # Labels: IoU 4/6 (background), 2/3 (class 1), 1/2 (class 3), 1 (8).
    assert 'mIoU 70.83%, FP 0.2778, FN 0.0000' in text
    assert 'coverage 100.00%' in text
    # Sweep: t=0.35 gives IoU 5/6, 2/3, 1, 1; t=0.75 gives 6/9, 0, 1, 1/2.
    assert '     0.35    87.50' in text and '     0.75    54.17' in text
    assert 'best baseline: threshold 0.35, mIoU 87.50%' in text
    # c, d, e have no ground truth, f is unreadable.
    assert '4 images skipped' in text and 'f: ' in text


def test_scores_from_confusion_of_pseudo_labels_match_tool():
    pred_a = refine_labels(CAMS_A, [3, 8], CUE_A / 255)
    pred_b = refine_labels(CAMS_B, [1], CUE_B / 255)
    confusion = (
        confusion_matrix(pred_a, GT_A, 9) + confusion_matrix(pred_b, GT_B, 9))
    scores = miou_from_confusion(confusion)
    np.testing.assert_allclose(scores['iou'][[0, 1, 3, 8]],
                               [4 / 6, 2 / 3, 1 / 2, 1])
    assert scores['miou'] == pytest.approx((4 / 6 + 2 / 3 + 1 / 2 + 1) / 4)
