import pytest
import torch

from hjepa.models import CosineLatentLoss, MSELatentLoss, SmoothL1LatentLoss


def test_smooth_l1_values():
    pred = torch.zeros(1, 2, 2)
    target = torch.tensor([[[0.5, 0.5], [3.0, 3.0]]])
    # 0.5 * 0.5**2 = 0.125 per element of token 0; 3 - 0.5 = 2.5 of token 1
    loss = SmoothL1LatentLoss()(pred, target)
    assert loss.item() == pytest.approx((0.125 + 2.5) / 2)


def test_mse_and_valid_mask():
    pred = torch.zeros(1, 2, 2)
    target = torch.tensor([[[1.0, 1.0], [10.0, 10.0]]])
    valid = torch.tensor([[True, False]])
    assert MSELatentLoss()(pred, target, valid).item() == pytest.approx(1.0)
    assert MSELatentLoss()(pred, target).item() == pytest.approx(50.5)


def test_cosine():
    x = torch.randn(3, 4, 8)
    assert CosineLatentLoss()(x, 2 * x).item() == pytest.approx(0, abs=1e-5)
    assert CosineLatentLoss()(x, -x).item() == pytest.approx(2, abs=1e-5)


def test_shape_mismatch():
    with pytest.raises(ValueError, match='shape'):
        MSELatentLoss()(torch.zeros(1, 2, 3), torch.zeros(1, 2, 4))
