"""The helpers the inference tools share: their options and config
loading (mmc2am.utils.tool_config), the settings check's message
(mmc2am.utils.io) and the reading loop (mmc2am.apis.dataset_items)."""
import argparse

import cv2
import numpy as np
import pytest
from mmengine.config import Config

from mmc2am.apis.dataset_items import build_folder_dataset, readable_items
from mmc2am.utils.io import (check_settings, describe_changes,
                             file_fingerprint)
from mmc2am.utils.tool_config import (add_inference_args, add_model_args,
                                      add_multiscale_args,
                                      load_inference_config, report_problems)


def _parser(**kwargs) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    add_model_args(parser, 'config', 'checkpoint')
    add_inference_args(parser, **kwargs)
    return parser


def test_inference_options_defaults_and_values():
    args = _parser(strict_help='h').parse_args(['c.py', 'w.pth'])
    assert (args.config, args.checkpoint) == ('c.py', 'w.pth')
    assert args.workers == 2 and args.strict is False
    assert args.cfg_options is None and args.device in ('cpu', 'cuda')
    args = _parser(strict_help='h').parse_args([
        'c.py', 'w.pth', '--workers', '0', '--device', 'cpu', '--strict',
        '--cfg-options', 'model.num_classes=3'
    ])
    assert (args.workers, args.device, args.strict) == (0, 'cpu', True)
    assert args.cfg_options == {'model.num_classes': 3}
    # Without --workers and --strict (visualize_maps).
    args = _parser(workers=False).parse_args(['c.py', 'w.pth'])
    assert not hasattr(args, 'workers') and not hasattr(args, 'strict')
    with pytest.raises(SystemExit):
        _parser(workers=False).parse_args(['c.py', 'w.pth', '--strict'])


def test_multiscale_options():
    parser = argparse.ArgumentParser()
    add_multiscale_args(parser)
    args = parser.parse_args([])
    assert args.scales == [0.5, 1.0, 1.5, 2.0] and args.no_flip is False
    args = parser.parse_args(['--scales', '1', '0.5', '--no-flip'])
    assert args.scales == [1.0, 0.5] and args.no_flip is True


def test_load_inference_config_merges_options(tmp_path):
    path = str(tmp_path / 'cfg.py')
    Config(dict(model=dict(type='X', num_classes=2))).dump(path)
    args = _parser().parse_args(
        [path, 'w.pth', '--cfg-options', 'model.num_classes=5'])
    cfg = load_inference_config(args)
    assert cfg.model.num_classes == 5 and cfg.model.type == 'X'


def test_report_problems_prints_and_gives_the_status(capsys):
    assert report_problems([], 'Images not mapped', strict=True) == 0
    assert capsys.readouterr().out == ''
    assert report_problems(['a: bad', 'b: gone'], 'Images not mapped',
                           strict=False) == 0
    assert capsys.readouterr().out == \
        'Images not mapped:\n  a: bad\n  b: gone\n'
    assert report_problems(['a: bad'], 'X', strict=True) == 1


def test_describe_changes_names_the_keys_that_differ(tmp_path):
    text = describe_changes(dict(a=1, b=2, c=3), dict(a=1, b=4, d=5))
    assert text == \
        "['b', 'c', 'd'] differ: [2, 3, None] there, [4, None, 5] now"
    check_settings(str(tmp_path), dict(a=1))
    with pytest.raises(ValueError, match=r"\['a'\] differ: \[1\] there"):
        check_settings(str(tmp_path), dict(a=2))


def test_readable_items_yields_readable_and_lists_the_others(tmp_path):
    for name, value in (('a', 10), ('c', 30)):
        cv2.imwrite(str(tmp_path / f'{name}.png'),
                    np.full((4, 6, 3), value, np.uint8))
    (tmp_path / 'b.png').write_bytes(b'not an image')
    dataset = build_folder_dataset(str(tmp_path))
    problems = []
    items = list(
        readable_items(dataset, [2, 1, 0], [dict(type='LoadImageBGR8')], 0,
                       problems))
    assert [index for index, _ in items] == [2, 0]
    assert [int(sample['img'][0, 0, 0]) for _, sample in items] == [30, 10]
    assert len(problems) == 1 and 'b.png' in problems[0]


def test_file_fingerprint_is_the_content_sha256(tmp_path):
    abc = ('sha256:ba7816bf8f01cfea414140de5dae2223'
           'b00361a396177a9cb410ff61f20015ad')  # FIPS 180-2 test vector
    path = tmp_path / 'model.pth'
    path.write_bytes(b'abc')
    assert file_fingerprint(str(path)) == abc
    path.write_bytes(b'abd')  # same path, same size, other content
    assert file_fingerprint(str(path)) != abc
