"""LoadRefinedCAMLabel and LoadCueAnnotation: values and errors."""
import numpy as np
import pytest
from mmengine.dataset import Compose

from mmc2am.apis.pseudo_label_files import labels_from_files
from mmc2am.datasets.transforms import LoadCueAnnotation, LoadRefinedCAMLabel
from mmc2am.functional.pseudo_labels import load_label_map, save_label_map
from mmc2am.utils.png import write_png

# Two classes, IRN layout: 0-based keys 2 and 4 are class ids 3 and 5.
CAMS = np.array([[[0.9, 0.9, 0.1, 0.1], [0.9, 0.6, 0.1, 0.1],
                  [0.2, 0.2, 0.2, 0.2], [0.0, 0.0, 0.0, 0.0]],
                 [[0.1, 0.1, 0.8, 0.8], [0.1, 0.7, 0.8, 0.4],
                  [0.1, 0.1, 0.1, 0.1], [0.0, 0.0, 0.0, 0.5]]],
                dtype=np.float32)
# Foreground: the top two rows and the bottom-right pixel.
CUE = np.array([[255] * 4, [255] * 4, [0] * 4, [0, 0, 0, 255]], np.uint8)
# Background score 1 - cue: 0 on the cue, so the larger CAM wins there;
# 1 elsewhere, so background wins.
WITH_CUE = [[3, 3, 5, 5], [3, 5, 5, 5], [0, 0, 0, 0], [0, 0, 0, 5]]
# ignore_below=0.75: winners 0.7 (5 at [1, 1]), 0.4 and 0.5 are ignored.
WITH_CUE_IGNORE = [[3, 3, 5, 5], [3, 255, 5, 255], [0, 0, 0, 0],
                   [0, 0, 0, 255]]
# Constant background 0.5: 0.4 loses, the tie 0.5 at [3, 3] goes to it.
BASELINE = [[3, 3, 5, 5], [3, 5, 5, 0], [0, 0, 0, 0], [0, 0, 0, 0]]


@pytest.fixture
def tree(tmp_path):
    """``img/a.png`` (4 x 4), ``cams/a.npy``, ``cues/a.png``; image ``b``
    5 x 4 with 4 x 4 CAMs; image ``c`` with CAMs and no cue."""
    img = np.full((4, 4, 3), 100, np.uint8)
    write_png(str(tmp_path / 'img' / 'a.png'), img)
    write_png(str(tmp_path / 'img' / 'b.png'), np.zeros((5, 4, 3), np.uint8))
    write_png(str(tmp_path / 'img' / 'c.png'), img)
    (tmp_path / 'cams').mkdir()
    for name in 'abc':
        np.save(tmp_path / 'cams' / f'{name}.npy',
                dict(keys=np.array([2, 4]), high_res=CAMS))
    save_label_map(str(tmp_path / 'cues' / 'a.png'), CUE)
    save_label_map(str(tmp_path / 'cues' / 'b.png'), CUE)
    return tmp_path


def load(tree, name: str, **kwargs):
    pipeline = Compose([
        dict(type='LoadImageBGR8'),
        dict(type='LoadRefinedCAMLabel', cam_dir=str(tree / 'cams'), **kwargs)
    ])
    return pipeline(dict(img_path=str(tree / 'img' / f'{name}.png')))


def test_refined_label_values(tree):
    results = load(tree, 'a', cue_dir=str(tree / 'cues'))
    np.testing.assert_array_equal(results['gt_seg_map'], WITH_CUE)
    assert results['gt_seg_map'].dtype == np.uint8
    assert results['seg_fields'] == ['gt_seg_map']
    np.testing.assert_array_equal(
        load(tree, 'a', cue_dir=str(tree / 'cues'),
             ignore_below=0.75)['gt_seg_map'], WITH_CUE_IGNORE)
    # Without cues: the constant-threshold baseline.
    np.testing.assert_array_equal(
        load(tree, 'c', bg_threshold=0.5)['gt_seg_map'], BASELINE)


def test_refined_label_equals_the_tool_output(tree):
    import refine_cam_labels
    out = tree / 'labels'
    assert refine_cam_labels.main([
        '--cams',
        str(tree / 'cams'), '--cues',
        str(tree / 'cues'), '--out',
        str(out)
    ]) == 0
    np.testing.assert_array_equal(
        load_label_map(str(out / 'a.png')),
        load(tree, 'a', cue_dir=str(tree / 'cues'))['gt_seg_map'])
    np.testing.assert_array_equal(
        labels_from_files(str(tree / 'cams' / 'c.npy'), bg_threshold=0.5),
        BASELINE)


def test_refined_label_errors(tree):
    cues = str(tree / 'cues')
    with pytest.raises(ValueError, match='needs cue_dir .* or bg_threshold'):
        LoadRefinedCAMLabel(cam_dir=str(tree / 'cams'))
    with pytest.raises(ValueError, match='not both'):
        LoadRefinedCAMLabel(cam_dir='x', cue_dir='y', bg_threshold=0.3)
    with pytest.raises(ValueError, match=r'must lie in \[0, 1\]'):
        LoadRefinedCAMLabel(cam_dir='x', bg_threshold=30)
    (tree / 'cams' / 'a.npy').rename(tree / 'cams' / 'moved.npy')
    with pytest.raises(
            FileNotFoundError,
            match='no CAM file a.npy or a.npz in .*cams: infer'):
        load(tree, 'a', cue_dir=cues)
    with pytest.raises(
            FileNotFoundError,
            match=r'cue file .*c\.png does not exist: write'):
        load(tree, 'c', cue_dir=cues)
    with pytest.raises(
            ValueError,
            match=r'CAM file .*b\.npy is 4 x 4 but the image .*b\.png is '
            r'5 x 4 \(H x W\)'):
        load(tree, 'b', bg_threshold=0.5)
    # The cue of b is 4 x 4 too: its CAMs and cue agree, the image not.
    write_png(str(tree / 'cues' / 'c.png'), np.zeros((3, 4), np.uint8))
    with pytest.raises(
            ValueError,
            match=r'c\.png is 3x4 but the CAMs of .*c\.npy are 4x4 '
            r'\(height x width\)'):
        load(tree, 'c', cue_dir=cues)
    # skip_bad: a warning and None (the dataset draws another sample).
    assert load(tree, 'a', cue_dir=cues, skip_bad=True) is None


def test_cue_annotation_values_and_errors(tree):
    cue = np.array([[0, 255], [128, 127]], np.uint8)
    write_png(str(tree / 'soft' / 'a.png'), cue)
    write_png(str(tree / 'img' / 'small.png'), np.zeros((2, 2, 3), np.uint8))
    write_png(str(tree / 'soft' / 'small.png'), cue)
    # From the dataset's seg_map_path (no image loaded: no size check).
    results = LoadCueAnnotation()(
        dict(
            img_path=str(tree / 'img' / 'a.png'),
            seg_map_path=str(tree / 'soft' / 'a.png')))
    np.testing.assert_array_equal(results['gt_seg_map'], [[0, 1], [1, 0]])
    assert results['seg_fields'] == ['gt_seg_map']
    # From cue_dir, after the image; another threshold.
    pipeline = Compose([
        dict(type='LoadImageBGR8'),
        dict(
            type='LoadCueAnnotation',
            cue_dir=str(tree / 'soft'),
            threshold=255)
    ])
    results = pipeline(dict(img_path=str(tree / 'img' / 'small.png')))
    np.testing.assert_array_equal(results['gt_seg_map'], [[0, 1], [0, 0]])
    with pytest.raises(
            ValueError,
            match=r'cue file .*soft/a\.png is 2 x 2 '
            r'but the image .*a\.png is 4 x 4'):
        pipeline(dict(img_path=str(tree / 'img' / 'a.png')))
    with pytest.raises(
            FileNotFoundError,
            match=r'cue file .*b\.png of image .*b\.png does not'):
        pipeline(dict(img_path=str(tree / 'img' / 'b.png')))
    with pytest.raises(KeyError, match='set LoadCueAnnotation'):
        LoadCueAnnotation()(dict(img_path='x.png'))
    with pytest.raises(ValueError, match='threshold must be in'):
        LoadCueAnnotation(threshold=0)
