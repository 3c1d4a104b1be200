"""A tool killed mid-run leaves only complete files, and re-running resumes.
"""
import os
import signal
import subprocess
import sys
import time

import numpy as np
from PIL import Image

from mmc2am.functional.pseudo_labels import refine_labels
from mmc2am.utils.io import atomic_output, remove_stale_temp_files

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NUM = 3000


def _fabricate(tmp_path):
    cams, cues = tmp_path / 'cams', tmp_path / 'cues'
    cams.mkdir()
    cues.mkdir()
    rng = np.random.default_rng(0)
    for i in range(NUM):
        cam = rng.random((2, 24, 24)).astype(np.float32)
        np.save(cams / f'{i:05d}.npy', dict(keys=np.array([3, 7]),
                                            hr_cam=cam))
        cue = (rng.random((24, 24)) * 255).astype(np.uint8)
        Image.fromarray(cue).save(cues / f'{i:05d}.png')
    return cams, cues


def _expected(cams, cues, name):
    data = np.load(cams / f'{name}.npy', allow_pickle=True).item()
    cue = np.asarray(Image.open(cues / f'{name}.png')) / 255.0
    return refine_labels(data['hr_cam'], np.array([4, 8]), cue)


def _labels(folder) -> list:
    """Names of the label PNGs in ``folder`` (temporary files excluded)."""
    return sorted(p for p in os.listdir(folder) if p.endswith('.png'))


def test_killed_tool_leaves_complete_files_and_resumes(tmp_path):
    cams, cues = _fabricate(tmp_path)
    out = tmp_path / 'labels'
    cmd = [
        sys.executable,
        os.path.join(ROOT, 'tools', 'refine_cam_labels.py'), '--cams',
        str(cams), '--cues',
        str(cues), '--out',
        str(out)
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:
        # Count whole labels only: the folder also holds settings.json and,
        # while a label is being written, its temporary file.
        if out.is_dir() and len(_labels(out)) >= 30:
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # Visible files: the labels written so far and the run's settings.json.
    done = _labels(out)
    assert 30 <= len(done) < NUM, 'the tool was not killed mid-run'
    for name in done:  # every visible label is whole and right
        labels = np.asarray(Image.open(out / name))
        assert np.array_equal(labels, _expected(cams, cues, name[:-4]))

    stamp = {name: os.stat(out / name).st_mtime_ns for name in done}
    result = subprocess.run(cmd, capture_output=True, text=True, check=True)
    assert f'{NUM - len(done)} label maps written' in result.stdout
    assert f'{len(done)} already there' in result.stdout
    final = os.listdir(out)
    final.remove('settings.json')
    assert len(final) == NUM  # no temporary file left behind
    assert all(os.stat(out / n).st_mtime_ns == t for n, t in stamp.items())
    for name in final[::300]:
        labels = np.asarray(Image.open(out / name))
        assert np.array_equal(labels, _expected(cams, cues, name[:-4]))


def test_atomic_output_cleans_up_on_error(tmp_path):
    path = tmp_path / 'sub' / 'a.bin'
    try:
        with atomic_output(str(path)) as tmp:
            with open(tmp, 'wb') as f:
                f.write(b'half')
            raise RuntimeError('interrupted')
    except RuntimeError:
        pass
    assert os.listdir(tmp_path / 'sub') == []
    with atomic_output(str(path)) as tmp:
        with open(tmp, 'wb') as f:
            f.write(b'whole')
    assert path.read_bytes() == b'whole'
    (tmp_path / 'sub' / '.b.bin.123.tmp').write_bytes(b'stale')
    assert remove_stale_temp_files(str(tmp_path)) == 1
    assert os.listdir(tmp_path / 'sub') == ['a.bin']
