"""Compiled and checkpointed training steps compute what eager ones do."""
import copy

import pytest
import torch

from hjepa.models.utils.seeding import MASK_STREAM, step_generator
from tests.test_models.test_hjepa import build


def assert_padded(model, batch_size, steps):
    """The padded masks of these steps do hold padding."""
    for step in steps:
        gen = step_generator(model.generator, model.seed, step, MASK_STREAM)
        masks = model.masker.sample(batch_size, (8, 8), gen)
        assert (~masks['context_mask']).any(), step


def loss_and_grads(model, x, step=0):
    model.num_steps.fill_(step)  # same masks for both models
    losses = model(x, mode='loss')
    loss = sum(v for k, v in losses.items() if 'loss' in k)
    model.zero_grad()
    loss.backward()
    return loss.detach(), {
        n: p.grad.clone()
        for n, p in model.named_parameters() if p.grad is not None
    }


def assert_same_step(a, b, x, rtol, step=0):
    loss_a, grads_a = loss_and_grads(a, x, step)
    loss_b, grads_b = loss_and_grads(b, x, step)
    torch.testing.assert_close(loss_a, loss_b, rtol=rtol, atol=0)
    assert grads_a.keys() == grads_b.keys()
    for name, g in grads_a.items():
        # tolerance relative to the gradient's own scale
        scale = g.abs().max().clamp(min=1e-12)
        err = (g - grads_b[name]).abs().max()
        assert err <= rtol * scale, (name, float(err), float(scale))


@pytest.mark.parametrize('pad', [False, True])
def test_checkpointed_gradients_equal_plain_ones(pad):
    torch.manual_seed(0)
    plain = build()
    plain.masker.pad_context = pad
    cp = copy.deepcopy(plain)
    cp.backbone.with_cp = True
    cp.predictor.with_cp = True
    x = torch.randn(4, 3, 32, 32)
    if pad:
        assert_padded(plain, 4, [0])
    # recomputation repeats the same kernels on the same inputs
    assert_same_step(plain, cp, x, rtol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize('pad', [False, True])
def test_compiled_step_equals_eager_step(pad):
    torch.manual_seed(0)
    eager = build()
    eager.masker.pad_context = pad  # padded: attention masks per sample
    compiled = copy.deepcopy(eager)
    compiled.compile_blocks()
    x = torch.randn(4, 3, 32, 32)
    if pad:
        assert_padded(eager, 4, [0, 1, 2])
    # fused kernels reorder float sums: a few ulps of fp32, relative
    assert_same_step(eager, compiled, x, rtol=1e-4)
    # other mask sizes: recompiled with dynamic token counts, still equal
    for step in (1, 2):
        assert_same_step(
            eager, compiled, torch.randn(4, 3, 32, 32), rtol=1e-4, step=step)
