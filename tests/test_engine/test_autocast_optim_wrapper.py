"""AutocastOptimWrapper: bf16 forward on a CPU, a plain optimizer step."""
import pytest
import torch
from torch import nn

from hjepa.engine.optimizers.autocast_optim_wrapper import AutocastOptimWrapper


def test_forward_in_bf16_inside_the_context_only():
    model = nn.Linear(4, 2)
    wrapper = AutocastOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    x = torch.randn(3, 4)
    with wrapper.optim_context(model):
        assert model(x).dtype == torch.bfloat16
    assert model(x).dtype == torch.float32


def test_step_is_the_plain_optimizer_step():
    """No loss scaling: loss = sum(w) has gradient 1 everywhere, so SGD
    with lr 0.1 moves every weight by exactly -0.1."""
    model = nn.Linear(4, 2, bias=False)
    before = model.weight.detach().clone()
    wrapper = AutocastOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    with wrapper.optim_context(model):
        loss = model.weight.sum()
    wrapper.update_params(loss)
    torch.testing.assert_close(model.weight.detach(), before - 0.1)
    assert model.weight.grad is None or not model.weight.grad.any()


def test_bad_dtype_is_refused():
    model = nn.Linear(4, 2)
    with pytest.raises(ValueError, match="'float64'"):
        AutocastOptimWrapper(
            dtype='float64',
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
