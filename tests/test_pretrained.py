import pytest
import torch
from conftest import tiny_c2am_cfg
from mmseg.registry import MODELS

from mmc2am.models.utils.pretrained import find_key_prefix


def _backbone_cfg(checkpoint=None, **init):
    backbone = dict(tiny_c2am_cfg()['backbone'])
    if checkpoint is not None:
        backbone['init_cfg'] = dict(
            type='PretrainedAnyPrefix', checkpoint=str(checkpoint), **init)
    return backbone


def _write(path, state, wrap=None):
    torch.save(state if wrap is None else {wrap: state}, path)
    return path


@pytest.mark.parametrize('prefix,wrap,extra', [
    ('', None, {}),  # torchvision / ImageNet
    ('module.encoder_q.', 'state_dict', 'moco'),  # MoCo v2
    ('backbone.', 'state_dict', {}),  # DetCo / OpenMMLab models
    ('module.', 'model', {}),
])
def test_checkpoints_with_prefixes_load(tmp_path, prefix, wrap, extra):
    torch.manual_seed(1)
    source = MODELS.build(_backbone_cfg())
    state = {prefix + k: v for k, v in source.state_dict().items()}
    if extra == 'moco':
        # MoCo keeps a momentum encoder and an MLP head beside encoder_q.
        state.update({
            'module.encoder_k.' + k: torch.zeros_like(v)
            for k, v in source.state_dict().items()
        })
        state['module.encoder_q.fc.0.weight'] = torch.rand(4, 4)
        state['module.queue'] = torch.rand(8, 16)
    ckpt = _write(tmp_path / 'w.pth', state, wrap)
    model = MODELS.build(
        tiny_c2am_cfg(backbone=_backbone_cfg(ckpt)))
    model.init_weights()
    for key, value in source.state_dict().items():
        assert torch.equal(model.backbone.state_dict()[key], value), key


def test_forced_prefix_and_unrelated_checkpoint(tmp_path):
    source = MODELS.build(_backbone_cfg())
    ckpt = _write(tmp_path / 'w.pth',
                  {'enc.' + k: v
                   for k, v in source.state_dict().items()})
    model = MODELS.build(
        tiny_c2am_cfg(backbone=_backbone_cfg(ckpt, prefix='enc.')))
    model.init_weights()
    assert torch.equal(model.backbone.conv1.weight, source.conv1.weight)

    bad = _write(tmp_path / 'bad.pth', {'fc.weight': torch.rand(2, 2)})
    model = MODELS.build(tiny_c2am_cfg(backbone=_backbone_cfg(bad)))
    with pytest.raises(KeyError, match='bad.pth.*matches only 0'):
        model.init_weights()


def test_find_key_prefix_prefers_query_encoder():
    target = ['conv1.weight', 'layer1.0.bn1.bias']
    keys = [
        'module.encoder_k.conv1.weight', 'module.encoder_k.layer1.0.bn1.bias',
        'module.encoder_q.conv1.weight', 'module.encoder_q.layer1.0.bn1.bias'
    ]
    assert find_key_prefix(keys, target) == ('module.encoder_q.', 2)
    assert find_key_prefix(['x.y'], target) == ('', 0)


def test_missing_checkpoint_file_is_named(tmp_path):
    model = MODELS.build(
        tiny_c2am_cfg(backbone=_backbone_cfg(tmp_path / 'nope.pth')))
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        model.init_weights()
