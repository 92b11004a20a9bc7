"""Per-term gradients of a step (tools/analysis_tools/level_gradients.py)."""
import pytest
import torch

from hjepa.models.utils.level_gradients import level_gradients
from .test_hjepa import build


def _flat(module):
    return torch.cat([
        (p.grad if p.grad is not None else torch.zeros_like(p)).flatten()
        for p in module.parameters() if p.requires_grad
    ])


def test_terms_add_up_to_the_step_gradient():
    """Each term is backpropagated alone (no gradient left over from the
    previous one): their encoder gradients sum to the whole loss's."""
    model = build()
    model.train()
    x = torch.randn(4, 3, 32, 32)
    step = model.num_steps.clone()
    torch.manual_seed(0)
    out = level_gradients(model, x)
    assert set(out) == {'loss_level0', 'loss_level1', 'loss_level2'}
    ref = out['loss_level0']['backbone']
    assert ref['ratio'] == pytest.approx(1.0)
    assert ref['cosine'] == pytest.approx(1.0, abs=1e-5)

    # the same step again (same masks), each term by hand and all at once
    grads = {}
    for term in out:
        model.num_steps.copy_(step)
        torch.manual_seed(0)
        model.zero_grad()
        model.loss(x)[term].backward()
        grads[term] = _flat(model.backbone).clone()
        assert grads[term].norm().item() == pytest.approx(
            out[term]['backbone']['norm'], rel=1e-4)
    model.num_steps.copy_(step)
    torch.manual_seed(0)
    model.zero_grad()
    losses = model.loss(x)
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    total = _flat(model.backbone)
    torch.testing.assert_close(
        sum(grads.values()), total, rtol=1e-4, atol=1e-7)
    g0, g1 = grads['loss_level0'], grads['loss_level1']
    cos = torch.dot(g0, g1) / (g0.norm() * g1.norm())
    assert out['loss_level1']['backbone']['cosine'] == pytest.approx(
        cos.item(), abs=1e-4)


def test_stopped_coarse_gradient_does_not_reach_the_encoder():
    """``query_context_grad=0``: the coarse levels train the predictor, not
    the context encoder."""
    model = build()
    model.predictor.query_context_grad = 0.0
    model.train()
    out = level_gradients(model, torch.randn(4, 3, 32, 32))
    for term in ('loss_level1', 'loss_level2'):
        assert out[term]['backbone']['norm'] == 0
        assert out[term]['backbone']['cosine'] == 0
        assert out[term]['predictor']['norm'] > 0
    assert out['loss_level0']['backbone']['norm'] > 0


def test_bad_groups_and_reference_are_named():
    model = build()
    model.train()
    with pytest.raises(ValueError, match="group 'neck'"):
        level_gradients(model, torch.randn(2, 3, 32, 32), groups=('neck', ))
    with pytest.raises(ValueError, match="reference 'loss_reg'"):
        level_gradients(model, torch.randn(2, 3, 32, 32), reference='loss_reg')
