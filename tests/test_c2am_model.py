import numpy as np
import pytest
import torch
from conftest import tiny_c2am_cfg
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmc2am.models import C2AMHead, ConcatStages


def test_head_embeddings_equal_direct_computation():
    torch.manual_seed(0)
    head = C2AMHead(in_channels=4).eval()
    head.bn.running_mean.fill_(0.3)
    head.bn.running_var.fill_(2.0)
    head.bn.weight.data.fill_(1.5)
    head.bn.bias.data.fill_(-0.2)
    z = torch.randn(2, 4, 3, 5)
    out = head(z)
    conv = torch.nn.functional.conv2d(z, head.conv.weight, padding=1)
    logits = (conv - 0.3) / np.sqrt(2.0 + head.bn.eps) * 1.5 - 0.2
    prob = torch.sigmoid(logits)
    assert torch.allclose(out['logits'], logits, atol=1e-5)
    assert torch.allclose(out['map'], prob, atol=1e-6)
    for i in range(2):
        fg = torch.zeros(4)
        bg = torch.zeros(4)
        for y in range(3):
            for x in range(5):
                fg += prob[i, 0, y, x] * z[i, :, y, x]
                bg += (1 - prob[i, 0, y, x]) * z[i, :, y, x]
        assert torch.allclose(out['fg'][i], fg / 15, atol=1e-5)
        assert torch.allclose(out['bg'][i], bg / 15, atol=1e-5)
    assert head.conv.bias is None


def test_head_rejects_wrong_channels():
    with pytest.raises(ValueError, match='in_channels=4'):
        C2AMHead(in_channels=4)(torch.rand(1, 5, 3, 3))


def test_neck_concatenates_and_resizes():
    a = torch.ones(1, 2, 4, 4)
    b = torch.full((1, 3, 2, 2), 2.0)
    (out, ) = ConcatStages(in_indices=(0, 1))((a, b))
    assert out.shape == (1, 5, 4, 4)
    assert torch.all(out[:, :2] == 1) and torch.all(out[:, 2:] == 2)


def test_neck_names_missing_stage_indices():
    with pytest.raises(IndexError, match=r'indices \[3\] do not exist'):
        ConcatStages(in_indices=(1, 3))((torch.rand(1, 1, 2, 2), ) * 2)


def test_reference_encoder_shapes():
    """ResNet-50 stages 3 and 4 at stride 16: 3072 channels."""
    from mmengine.config import Config
    cfg = Config.fromfile('configs/_base_/models/c2am_r50.py')
    model = MODELS.build(cfg.model).eval()
    with torch.no_grad():
        z = model.extract_feat(torch.rand(1, 3, 64, 96))
    assert z.shape == (1, 3072, 4, 6)


def test_unknown_backbone_type_names_the_key():
    cfg = tiny_c2am_cfg(backbone=dict(type='NoSuchNet'))
    with pytest.raises(KeyError, match='backbone.*NoSuchNet'):
        MODELS.build(cfg)


def test_stage_indices_the_backbone_lacks():
    model = MODELS.build(tiny_c2am_cfg(neck=dict(type='ConcatStages',
                                                 in_indices=(0, 2))))
    with pytest.raises(IndexError, match='2 backbone outputs'):
        model(torch.rand(2, 3, 32, 32), mode='tensor')


def test_modes_and_polarity():
    torch.manual_seed(0)
    model = MODELS.build(tiny_c2am_cfg()).eval()
    x = torch.rand(2, 3, 48, 64)
    raw = model(x, mode='tensor')
    assert raw.shape == (2, 1, 3, 4)
    model.set_polarity(True)
    assert model.flipped and bool(model.polarity_decided)
    assert torch.allclose(model(x, mode='tensor'), -raw)

    samples = []
    for flip in (False, True):
        s = SegDataSample(metainfo=dict(
            ori_shape=(24, 40), img_shape=(48, 64), flip=flip,
            flip_direction='horizontal'))
        samples.append(s)
    up = torch.nn.functional.interpolate(-raw, (48, 64), mode='bilinear')
    expected = torch.nn.functional.interpolate(up, (24, 40), mode='bilinear')
    # Default map_space='logit': seg_logits holds the oriented logits.
    out = model(x, samples, mode='predict')
    seg = out[0].seg_logits.data
    assert seg.shape == (1, 24, 40)
    assert out[0].map_space == 'logit'
    assert torch.allclose(seg, expected[0], atol=1e-6)
    # The flipped sample's map is mirrored back.
    assert torch.allclose(out[1].seg_logits.data,
                          expected[1].flip(dims=(2, )), atol=1e-6)
    # The mask thresholds P = sigmoid(logits) whatever the map space.
    assert torch.equal(out[0].pred_sem_seg.data, (seg > 0).long())
    model.test_cfg.update(map_space='probability', threshold=0.6)
    prob = model(x, samples, mode='predict')[0]
    assert prob.map_space == 'probability'
    assert torch.allclose(prob.seg_logits.data, expected[0].sigmoid(),
                          atol=1e-6)
    assert torch.equal(prob.pred_sem_seg.data,
                       (expected[0].sigmoid() > 0.6).long())
    with pytest.raises(ValueError, match='map_space="softmax"'):
        MODELS.build(tiny_c2am_cfg(test_cfg=dict(map_space='softmax')))


def test_loss_mode_and_batch_of_one():
    model = MODELS.build(tiny_c2am_cfg()).train()
    losses = model(torch.rand(3, 3, 32, 32), mode='loss')
    assert set(losses) == {'loss_pos_bg', 'loss_neg', 'loss_pos_fg'}
    assert model.last_train_maps.shape == (3, 1, 2, 2)
    with pytest.raises(ValueError, match='at least 2 per batch'):
        model(torch.rand(1, 3, 32, 32), mode='loss')
    model.eval()
    (sample, ) = model(torch.rand(1, 3, 32, 32), mode='predict')
    assert isinstance(sample.seg_logits, PixelData)


def test_polarity_survives_state_dict_round_trip(tmp_path):
    model = MODELS.build(tiny_c2am_cfg())
    model.set_polarity(True)
    path = tmp_path / 'ckpt.pth'
    torch.save({'state_dict': model.state_dict()}, path)
    fresh = MODELS.build(tiny_c2am_cfg())
    assert not fresh.flipped and not bool(fresh.polarity_decided)
    from mmengine.runner import load_checkpoint
    load_checkpoint(fresh, str(path))
    assert fresh.flipped and bool(fresh.polarity_decided)


def test_output_frame_img_shape_keeps_the_transformed_frame():
    torch.manual_seed(0)
    model = MODELS.build(
        tiny_c2am_cfg(test_cfg=dict(output_frame='img_shape'))).eval()
    x = torch.rand(1, 3, 48, 64)
    sample = SegDataSample(metainfo=dict(
        ori_shape=(100, 200), img_shape=(40, 64), flip=True,
        flip_direction='horizontal', img_padding_size=(0, 0, 0, 8)))
    (out, ) = model(x, [sample], mode='predict')
    up = torch.nn.functional.interpolate(
        model(x, mode='tensor'), (48, 64), mode='bilinear')
    # Only the padding (8 bottom rows) is removed: no un-flip, no resize.
    assert torch.allclose(out.seg_logits.data, up[0, :, :40], atol=1e-6)
    with pytest.raises(ValueError, match='output_frame="crop"'):
        MODELS.build(tiny_c2am_cfg(test_cfg=dict(output_frame='crop')))


def test_reference_polarity_mode_is_one_minus_x():
    model = MODELS.build(tiny_c2am_cfg())
    x = torch.tensor([[[[-2.0, 0.5]]]])
    assert torch.equal(model.apply_polarity(x, 'reference'), x)
    model.set_polarity(True)
    assert torch.equal(model.apply_polarity(x, 'reference'),
                       torch.tensor([[[[3.0, 0.5]]]]))
    assert torch.equal(model.apply_polarity(x), -x)
    with pytest.raises(ValueError, match='mode="flip"'):
        model.apply_polarity(x, 'flip')
