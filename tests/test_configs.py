"""Leaf recipe configs: each builds its dataset on a fabricated tree and its
model, and differs from its base only where the recipe does."""
import glob
import os.path as osp

import fabricate
import pytest
import torch
from mmengine.config import Config
from mmseg.registry import DATASETS, MODELS

LEAVES = {
    'c2am_r50_cub_supervised.py': fabricate.cub,
    'c2am_r50_cub_moco.py': fabricate.cub,
    'c2am_r50_cub_detco.py': fabricate.cub,
    'c2am_r50_cub_supervised_intended.py': fabricate.cub,
    'c2am_r50_ilsvrc.py': fabricate.ilsvrc,
    'c2am_r50_voc.py': fabricate.voc,
    'c2am_r50_image_folder.py': fabricate.image_folder,
}


def _load(name):
    return Config.fromfile(osp.join('configs', 'c2am', name))


def test_every_leaf_config_is_covered():
    found = {osp.basename(p) for p in glob.glob('configs/c2am/*.py')}
    assert found == set(LEAVES)


@pytest.mark.parametrize('name', sorted(LEAVES))
def test_leaf_reads_fabricated_tree(name, tmp_path):
    LEAVES[name](str(tmp_path))
    cfg = _load(name)
    assert cfg.default_scope == 'mmseg'
    assert cfg.custom_hooks[0].type == 'C2AMPolarityHook'
    # Every scheduler is complete (lists replace, not merge, in mmengine)
    # and ends with training (the Runner sets `end` to max_epochs).
    for scheduler in cfg.param_scheduler:
        assert scheduler.type == 'PolyLR' and 'end' not in scheduler
    cfg.train_dataloader.dataset.data_root = str(tmp_path)
    sample = DATASETS.build(cfg.train_dataloader.dataset)[0]
    crop = cfg.train_pipeline[2].crop_size \
        if 'train_pipeline' in cfg else None
    assert sample['inputs'].shape[0] == 3
    if crop:
        assert tuple(sample['inputs'].shape[1:]) == tuple(crop)


def test_reference_model_builds_and_loads_its_checkpoint(tmp_path):
    cfg = _load('c2am_r50_cub_moco.py')
    source = MODELS.build(dict(cfg.model.backbone, init_cfg=None))
    ckpt = tmp_path / 'moco.pth.tar'
    torch.save({'state_dict': {'module.encoder_q.' + k: v
                               for k, v in source.state_dict().items()}},
               ckpt)
    cfg.model.backbone.init_cfg.checkpoint = str(ckpt)
    model = MODELS.build(cfg.model)
    model.init_weights()
    assert torch.equal(model.backbone.layer4[0].conv2.weight,
                       source.layer4[0].conv2.weight)
    # The faithful optimizer: BatchNorm affine parameters are not trained.
    assert not model.backbone.bn1.weight.requires_grad
    assert not model.head.bn.weight.requires_grad
    assert model.head.conv.weight.requires_grad


def _flat(d, prefix=''):
    out = {}
    for key, value in d.items():
        if isinstance(value, dict):
            out.update(_flat(value, f'{prefix}{key}.'))
        else:
            out[f'{prefix}{key}'] = value
    return out


@pytest.mark.parametrize('leaf,base,expected', [
    ('c2am_r50_cub_moco.py', 'c2am_r50_cub_supervised.py',
     {'model.loss.alpha', 'model.backbone.init_cfg.checkpoint'}),
    ('c2am_r50_cub_detco.py', 'c2am_r50_cub_moco.py',
     {'model.backbone.init_cfg.checkpoint'}),
    ('c2am_r50_cub_supervised_intended.py', 'c2am_r50_cub_supervised.py', {
        'norm_cfg.requires_grad', 'model.backbone.norm_cfg.requires_grad',
        'model.head.norm_cfg.requires_grad',
        'optim_wrapper.optimizer.momentum',
        'optim_wrapper.paramwise_cfg.bias_lr_mult',
        'optim_wrapper.paramwise_cfg.custom_keys.head.lr_mult'
    }),
])
def test_recipes_differ_only_where_the_recipe_does(leaf, base, expected):
    a, b = _flat(_load(leaf).to_dict()), _flat(_load(base).to_dict())
    differ = {k for k in set(a) | set(b) if a.get(k) != b.get(k)}
    assert differ == expected


def test_voc_recipe_values():
    cfg = _load('c2am_r50_voc.py')
    assert cfg.model.loss.alpha == 0.25
    assert cfg.optim_wrapper.optimizer.lr == 1e-3
    assert cfg.optim_wrapper.optimizer.momentum == 1e-4
    assert cfg.train_cfg.max_epochs == 10
    assert cfg.train_dataloader.batch_size >= 32
