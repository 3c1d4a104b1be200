"""tools/benchmark_boxes.py: a trained model's maps (--from-checkpoint),
saved and reloaded (--save-maps, --maps), and the printed table."""
import benchmark_boxes
import cv2
import numpy as np
import pytest
import torch
from conftest import tiny_c2am_cfg, write_model_files
from mmengine.config import Config

from mmc2am.apis.multiscale import multiscale_map
from mmc2am.datasets.synthetic import generate_scene
from mmc2am.functional import mask_tracing

SCENE_SIZE = 48


@pytest.fixture
def model_files(tmp_path):
    """A config (tiny C2AM, 48 px synthetic test scenes) and the checkpoint
    of its model with a decided polarity. Returns (config, checkpoint,
    model)."""
    cfg = dict(
        default_scope='mmseg',
        model=tiny_c2am_cfg(),
        test_dataloader=dict(
            dataset=dict(type='SyntheticScenesDataset', img_size=SCENE_SIZE)))
    cfg_path = str(tmp_path / 'cfg.py')
    checkpoint = str(tmp_path / 'c2am.pth')
    model = write_model_files(cfg, cfg_path, checkpoint, polarity=False)
    return cfg_path, checkpoint, model


def test_model_maps_are_upsampled_scene_maps(model_files):
    cfg_path, checkpoint, model = model_files
    maps = benchmark_boxes.model_maps(
        cfg_path, checkpoint, num=2, size=40, scene_seed=5)
    assert set(maps) == {'logits', 'probabilities', 'fused'}
    for kind in maps.values():
        assert kind.shape == (2, 40, 40) and kind.dtype == np.float32
    model.test_cfg.update(output_frame='ori_shape')
    for i in range(2):
        # Scene i of seed 5, mapped at scale 1 without flip, upsampled.
        img = generate_scene((5, i), SCENE_SIZE)['img']

        def up(m):
            return cv2.resize(m, (40, 40), interpolation=cv2.INTER_LINEAR)

        np.testing.assert_allclose(
            maps['fused'][i],
            up(multiscale_map(model, img, scales=(1.0, ), flip=False)),
            atol=1e-5)
        # The logits are those C2AM.predict hands the WSOL metric.
        data = model.data_preprocessor(
            dict(inputs=[torch.from_numpy(img).permute(2, 0, 1)]))
        with torch.no_grad():
            logits = model.predict(data['inputs'])[0].seg_logits.data[0]
        np.testing.assert_allclose(
            maps['logits'][i], up(logits.numpy()), atol=1e-5)
        np.testing.assert_allclose(
            maps['probabilities'][i], up(logits.sigmoid().numpy()),
            atol=1e-6)


def test_main_prints_model_rows_and_saves_maps(model_files, tmp_path,
                                               capsys):
    cfg_path, checkpoint, _ = model_files
    saved = tmp_path / 'maps.npy'
    benchmark_boxes.main([
        '--num-maps', '2', '--size', '32', '--repeat', '1', '--threads', '2',
        '--from-checkpoint', cfg_path, checkpoint, '--save-maps',
        str(saved)
    ])
    rows = capsys.readouterr().out.splitlines()
    # Title, header, rule, then 3 modes for each of 5 map families (2
    # synthetic, 3 forms of the model's).
    # Then a blank line, a title, header and rule, and one row per family
    # for the whole-mask trace times.
    assert len(rows) == 3 + 15 + 4 + 5
    assert rows[0].endswith('ours traces outer contours with the compiled '
                            'tracer.')
    assert rows[19].startswith('microseconds per trace')
    assert rows[20].split(' | ')[1:] == ['compiled tracer', 'OpenCV']
    for kind in ('logits', 'sigmoid', 'fused'):
        # 3 modes, and the whole-mask trace times.
        assert sum(r.startswith(f'c2am.pth: {kind}') for r in rows) == 4
    maps = np.load(saved)
    assert maps.shape == (2, 32, 32)
    # The saved maps are timed again through --maps, under their file name,
    # traced by OpenCV; the compiled tracer is back afterwards.
    compiled = mask_tracing.trace_outer
    benchmark_boxes.main([
        '--num-maps', '1', '--size', '16', '--repeat', '1', '--maps',
        str(saved), '--opencv-tracer'
    ])
    rows = capsys.readouterr().out.splitlines()
    assert sum('maps.npy (32x32)' in r for r in rows) == 3
    assert rows[0].endswith('with cv2.findContours.')
    assert not any(r.startswith('microseconds') for r in rows)
    assert mask_tracing.trace_outer is compiled


def test_bad_inputs_name_the_file(tmp_path, model_files):
    with pytest.raises(SystemExit, match='does not exist'):
        benchmark_boxes.main(['--maps', str(tmp_path / 'missing.npy')])
    flat = tmp_path / 'flat.npy'
    np.save(flat, np.zeros((4, 4)))
    with pytest.raises(SystemExit, match=r'flat.npy: expected maps'):
        benchmark_boxes.main(['--num-maps', '1', '--size', '8', '--maps',
                              str(flat)])
    with pytest.raises(SystemExit, match='config .* does not exist'):
        benchmark_boxes.main([
            '--from-checkpoint',
            str(tmp_path / 'no_cfg.py'), model_files[1]
        ])
    with pytest.raises(SystemExit, match='pass --from-checkpoint'):
        benchmark_boxes.main(['--save-maps', str(tmp_path / 'out.npy')])
    # A config whose test set is not synthetic scenes.
    folder_cfg = Config(
        dict(
            model=tiny_c2am_cfg(),
            test_dataloader=dict(
                dataset=dict(type='ImageFolderDataset', data_root='x'))))
    folder_path = str(tmp_path / 'folder_cfg.py')
    folder_cfg.dump(folder_path)
    with pytest.raises(SystemExit, match="got 'ImageFolderDataset'"):
        benchmark_boxes.model_maps(folder_path, model_files[1], 1, 8, 0)


def test_traces_per_map_counts_contour_calls(monkeypatch):
    from mmc2am.functional.boxes import maps_to_boxes, reference_boxes
    yy, xx = np.mgrid[0:40, 0:50]
    # One smooth peak: every mask has one component, one trace settles it.
    m = np.exp(-((yy - 20.0)**2 + (xx - 25.0)**2) / 60).astype(np.float32)
    taus = np.arange(0, 1, 0.1)
    assert benchmark_boxes.traces_per_map(
        lambda: [reference_boxes(m, taus) for _ in range(2)], 2) == 10
    assert benchmark_boxes.traces_per_map(
        lambda: maps_to_boxes(m[None], taus), 1) == 1
    # Both tracers are restored afterwards.
    assert cv2.findContours.__module__ != 'benchmark_boxes'
    assert mask_tracing.trace_outer.__module__ != 'benchmark_boxes'
    # Traced by OpenCV, the count is the same.
    monkeypatch.setattr(mask_tracing, 'trace_outer', None)
    assert benchmark_boxes.traces_per_map(
        lambda: maps_to_boxes(m[None], taus), 1) == 1


def test_whole_mask_trace_times_trace_every_cut_of_every_map(monkeypatch):
    calls = {True: 0, False: 0}
    compiled, find_contours = mask_tracing.trace_outer, cv2.findContours

    def count(flag, fn):
        def call(*args, **kwargs):
            calls[flag] += 1
            return fn(*args, **kwargs)

        return call

    monkeypatch.setattr(mask_tracing, 'trace_outer', count(True, compiled))
    monkeypatch.setattr(cv2, 'findContours', count(False, find_contours))
    rng = np.random.default_rng(0)
    times = benchmark_boxes.whole_mask_trace_times(rng.random((3, 20, 30)),
                                                   repeat=2)
    assert len(times) == 2 and all(t > 0 for t in times)
    # 3 maps x 25 cuts x 2 rounds, each tracer.
    assert calls == {True: 150, False: 150}


def test_speed_cells_compare_each_thread_count_with_its_own_reference():
    # Seconds per thread count: reference largest, reference all, ours
    # largest, all, both; 10 maps.
    times = np.array([[1.0, 2.0, 0.5, 1.0, 1.0],
                      [0.5, 1.0, 0.25, 0.5, 0.6]])
    assert benchmark_boxes.speed_cells(times, 0, 10) == [
        '10.0', '20.0 (x2.00)', '20.0', '40.0 (x2.00)'
    ]
    # "largest + all" against both reference loops: 3 s and 1.5 s.
    assert benchmark_boxes.speed_cells(times, 2, 10) == [
        '3.3', '10.0 (x3.00)', '6.7', '16.7 (x2.50)'
    ]


def test_shared_among_threads_keeps_the_maps_order():
    maps = np.arange(12, dtype=np.float32).reshape(6, 1, 2)
    assert benchmark_boxes.shared_among_threads(
        lambda m: float(m.sum()), maps, 3) == [1.0, 5.0, 9.0, 13.0, 17.0, 21.0]
