"""Every registered mmc2am type builds from a config dict, alone and mixed
into stock mmseg / mmdet configs."""
import pytest
import torch
from conftest import tiny_c2am_cfg
from mmengine.config import Config
from mmengine.registry import DefaultScope, init_default_scope
from mmseg.registry import HOOKS, MODELS

import mmc2am  # noqa: F401


@pytest.mark.parametrize('cfg', [
    dict(type='C2AMHead', in_channels=8),
    dict(type='C2AMLoss', alpha=0.5),
    dict(type='ConcatStages', in_indices=(0, 1)),
    tiny_c2am_cfg(),
])
def test_models_build_by_bare_name(cfg):
    assert type(MODELS.build(cfg)).__name__ == cfg['type']


def test_hook_builds_by_bare_name():
    assert type(HOOKS.build(dict(type='C2AMPolarityHook'))).__name__ == \
        'C2AMPolarityHook'


def test_custom_imports_reach_our_types(tmp_path):
    path = tmp_path / 'cfg.py'
    path.write_text(
        "custom_imports = dict(imports=['mmc2am'], "
        "allow_failed_imports=False)\n"
        "model = dict(type='C2AMLoss', alpha=0.1)\n")
    cfg = Config.fromfile(str(path))
    assert MODELS.build(cfg.model).alpha_fg == 0.1


def test_stock_mmseg_config_with_c2am_mixed_in():
    cfg = Config.fromfile(
        'configs/mixing/c2am_on_mmseg_deeplabv3_backbone.py')
    assert cfg.model.backbone.type == 'ResNetV1c'  # the stock backbone
    cfg.model.backbone.norm_cfg = dict(type='BN', requires_grad=True)
    cfg.model.backbone.depth = 18  # keep the CPU test light
    cfg.model.head.in_channels = 256 + 512
    model = MODELS.build(cfg.model).eval()
    with torch.no_grad():
        out = model(torch.rand(1, 3, 32, 32), mode='tensor')
    assert out.shape == (1, 1, 4, 4)  # ResNetV1c-D8: output stride 8
    assert HOOKS.build(cfg.custom_hooks[0]).mode == 'border_centre'


def test_stock_mmdet_scope_with_c2am_mixed_in():
    from mmengine.registry import MODELS as ROOT_MODELS
    cfg = Config.fromfile('configs/mixing/c2am_on_mmdet_resnet_backbone.py')
    DefaultScope._instance_dict.clear()
    init_default_scope(cfg.default_scope)
    cfg.model.backbone.depth = 18
    cfg.model.head.in_channels = 256 + 512
    model = ROOT_MODELS.build(cfg.model)
    assert type(model).__name__ == 'C2AM'
    assert type(model.backbone).__module__.startswith('mmdet.')
    from mmdet.registry import HOOKS as DET_HOOKS
    assert type(DET_HOOKS.build(cfg.custom_hooks[0])).__name__ == \
        'C2AMPolarityHook'
