"""Atomic, resumable file output for tools that write many files."""
import glob
import hashlib
import json
import os
import os.path as osp
from contextlib import contextmanager
from typing import Iterator, List

# Temporary files are hidden siblings: '.<name>.<pid>.tmp'.
_TMP_PATTERN = '.*.tmp'


@contextmanager
def atomic_output(path: str) -> Iterator[str]:
    """Yield a temporary path to write; it replaces ``path`` on success.

    The temporary file is a hidden sibling of ``path`` (same file system,
    so ``os.replace`` is atomic): a reader, or a re-run that skips existing
    outputs, never sees a partial ``path``. On an exception the temporary
    file is removed; after a hard kill it is left hidden and
    :func:`remove_stale_temp_files` clears it on the next run.

    Args:
        path (str): The final file; its folder is created.

    Yields:
        str: Where to write.
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    # Not tempfile.mkstemp: its files are private (mode 0600).
    tmp = osp.join(folder, f'.{osp.basename(path)}.{os.getpid()}.tmp')
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def remove_stale_temp_files(folder: str) -> int:
    """Delete temporary files that a killed run left in ``folder`` (and its
    sub-folders).

    Args:
        folder (str): An output folder of a tool using :func:`atomic_output`.

    Returns:
        int: How many were removed.
    """
    stale = glob.glob(osp.join(folder, '**', _TMP_PATTERN), recursive=True)
    for path in stale:
        os.remove(path)
    return len(stale)


def check_settings(out: str, settings: dict) -> None:
    """Record a tool's settings in ``OUT/settings.json``, or refuse to
    resume outputs written with other settings.

    Args:
        out (str): The tool's output folder.
        settings (dict): JSON-serialisable settings that decide the outputs.

    Raises:
        ValueError: ``OUT/settings.json`` holds other settings (the message
            names the keys that differ).
    """
    path = osp.join(out, 'settings.json')
    if osp.isfile(path):
        with open(path) as f:
            before = json.load(f)
        if before != settings:
            raise ValueError(
                f'{out} holds outputs of other settings '
                f'({describe_changes(before, settings)}). Use another '
                'output folder, or the same settings to resume.')
    else:
        with atomic_output(path) as tmp, open(tmp, 'w') as f:
            json.dump(settings, f, indent=2)


def file_fingerprint(path: str, what: str = 'file') -> str:
    """SHA-256 of a file's bytes, e.g. to tell a retrained checkpoint saved
    at the same path from the one a resumed output was made with.

    Args:
        path (str): The file.
        what (str): What the file is, for the error message. Defaults to
            ``'file'``.

    Returns:
        str: ``'sha256:<hex digest>'``.

    Raises:
        FileNotFoundError: ``path`` is not a file.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'{what} {path} does not exist.')
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return f'sha256:{digest.hexdigest()}'


def describe_changes(before: dict, now: dict) -> str:
    """Name the keys whose values differ between two settings dicts, as
    error messages of resumed tools say it: ``"['a'] differ: [1] there,
    [2] now"`` (keys sorted; a missing key reads None)."""
    changed = sorted(
        k for k in set(before) | set(now) if before.get(k) != now.get(k))
    return (f'{changed} differ: {[before.get(k) for k in changed]} there, '
            f'{[now.get(k) for k in changed]} now')


def read_names(list_file: str) -> List[str]:
    """The image names of a list file: the first word of every line that
    is not blank and does not start with '#' (so VOC ``ImageSets`` lists
    and image-level label files both qualify).

    Raises:
        FileNotFoundError: The file does not exist.
    """
    if not osp.isfile(list_file):
        raise FileNotFoundError(f'list file {list_file} does not exist.')
    with open(list_file) as f:
        words = [line.split() for line in f]
    return [w[0] for w in words if w and not w[0].startswith('#')]
