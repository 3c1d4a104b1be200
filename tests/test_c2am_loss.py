import math

import pytest
import torch

from mmc2am.models.losses.c2am_loss import (C2AMLoss, pairwise_cosine,
                                            rank_weights)


def test_loss_matches_hand_computed_values():
    # fg0 = (1, 0), fg1 = (1, 1): cos = 1/sqrt(2); self-pairs clamp to 0.9995.
    # bg0 = (0, 1), bg1 = (1, 0): cos(bg0, bg1) = 0 -> clamped to 0.0005.
    fg = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    bg = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    alpha = 0.5
    c = 1 / math.sqrt(2)
    # Each row: the self-pair has rank 0 (weight e^alpha), the other rank 1
    # (weight 1).
    pos_fg = (2 * math.exp(alpha) * -math.log(0.9995) + 2 * -math.log(c)) / 4
    pos_bg = (2 * math.exp(alpha) * -math.log(0.9995) +
              2 * -math.log(0.0005)) / 4
    # s(fg_i, bg_j): fg0.bg0 = 0, fg0.bg1 = 1, fg1.bg0 = c, fg1.bg1 = c.
    neg = (-math.log(1 - 0.0005) - math.log(1 - 0.9995) -
           2 * math.log(1 - c)) / 4
    out = C2AMLoss(alpha=alpha)(fg, bg)
    assert list(out) == ['loss_pos_bg', 'loss_neg', 'loss_pos_fg']
    assert out['loss_pos_fg'].item() == pytest.approx(pos_fg, rel=1e-5)
    assert out['loss_pos_bg'].item() == pytest.approx(pos_bg, rel=1e-5)
    assert out['loss_neg'].item() == pytest.approx(neg, rel=1e-5)


def test_rank_weights_order_and_ties_by_index():
    sim = torch.tensor([[0.9995, 0.9995, 0.3], [0.9995, 0.9995, 0.3],
                        [0.3, 0.2, 0.9995]])
    w = rank_weights(sim, alpha=1.0)
    e = math.e
    # Row 1 ties the duplicate (index 0) with itself: index order wins, so the
    # duplicate takes rank 0 and the self-pair rank 1.
    expected = torch.tensor([[e, 1, 1 / e], [e, 1, 1 / e], [1, 1 / e, e]])
    assert torch.allclose(w, expected, atol=1e-6)


def test_clamping_keeps_logs_finite():
    a = torch.tensor([[1.0, 0.0], [-1.0, 0.0]])
    sim = pairwise_cosine(a, a)
    assert sim.min().item() == pytest.approx(0.0005)
    assert sim.max().item() == pytest.approx(0.9995)
    out = C2AMLoss(alpha=0.0)(a, a)
    # pos: two self pairs -log(0.9995) and two opposite pairs -log(0.0005).
    expected = (2 * -math.log(0.9995) + 2 * -math.log(0.0005)) / 4
    assert out['loss_pos_fg'].item() == pytest.approx(expected, rel=1e-5)
    assert all(torch.isfinite(v) for v in out.values())


def test_separate_alphas_and_weight():
    torch.manual_seed(0)
    fg, bg = torch.rand(5, 8), torch.rand(5, 8)
    base = C2AMLoss(alpha=0.3)(fg, bg)
    mixed = C2AMLoss(alpha=0.3, alpha_fg=1.0, loss_weight=2.0)(fg, bg)
    strong_fg = C2AMLoss(alpha=1.0)(fg, bg)
    assert mixed['loss_pos_bg'].item() == pytest.approx(
        2 * base['loss_pos_bg'].item(), rel=1e-6)
    assert mixed['loss_pos_fg'].item() == pytest.approx(
        2 * strong_fg['loss_pos_fg'].item(), rel=1e-6)


def test_float32_whatever_the_input_dtype():
    torch.manual_seed(0)
    fg, bg = torch.rand(6, 16), torch.rand(6, 16)
    fg16, bg16 = fg.bfloat16(), bg.bfloat16()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = C2AMLoss()(fg16, bg16)
    ref = C2AMLoss()(fg16.float(), bg16.float())
    for key, value in out.items():
        assert value.dtype == torch.float32
        assert value.item() == pytest.approx(ref[key].item(), rel=1e-6)


def test_gradients_flow_to_embeddings():
    fg = torch.rand(4, 3, requires_grad=True)
    bg = torch.rand(4, 3, requires_grad=True)
    sum(C2AMLoss()(fg, bg).values()).backward()
    assert fg.grad.abs().sum() > 0 and bg.grad.abs().sum() > 0


@pytest.mark.parametrize('fg_shape,bg_shape', [((4, 3), (4, 5)),
                                               ((4, 3), (3, 3)),
                                               ((4, 3, 1), (4, 3, 1))])
def test_mismatched_shapes_are_named(fg_shape, bg_shape):
    with pytest.raises(ValueError, match=r'fg \(.*\) and bg'):
        C2AMLoss()(torch.rand(fg_shape), torch.rand(bg_shape))


def test_batch_of_one_is_a_clear_error():
    with pytest.raises(ValueError, match='at least 2'):
        C2AMLoss()(torch.rand(1, 3), torch.rand(1, 3))
