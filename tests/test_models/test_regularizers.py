"""Anti-collapse regularisers: a spread batch scores low, a collapsed one
high."""
import pytest
import torch

from hjepa.models import SIGReg, VarianceCovarianceReg


def test_sigreg_tells_gaussian_from_collapsed():
    reg = SIGReg(num_directions=64)
    g = torch.Generator().manual_seed(0)
    gaussian = torch.randn(512, 32, generator=g)
    scores = {
        name: float(reg(z,
                        torch.Generator().manual_seed(1)))
        for name, z in (('gaussian', gaussian), ('narrow', 0.1 * gaussian),
                        ('shifted', gaussian + 3), ('collapsed',
                                                    torch.ones(512, 32)))
    }
    assert scores['gaussian'] < 2.0
    assert scores['narrow'] > 20 * scores['gaussian']
    assert scores['shifted'] > 20 * scores['gaussian']
    assert scores['collapsed'] > 20 * scores['gaussian']


def test_sigreg_draws_directions_from_the_generator():
    reg = SIGReg(num_directions=8)
    z = torch.randn(64, 16)
    a = reg(z, torch.Generator().manual_seed(3))
    b = reg(z, torch.Generator().manual_seed(3))
    c = reg(z, torch.Generator().manual_seed(4))
    assert a == b and a != c


def test_sigreg_gradient_spreads_a_narrow_batch():
    z = (0.1 * torch.randn(256, 8)).requires_grad_()
    SIGReg(32)(z, torch.Generator().manual_seed(0)).backward()
    # descending the gradient moves points away from the centre
    assert (z.grad * z).sum() < 0


def test_variance_covariance_known_values():
    reg = VarianceCovarianceReg(gamma=1.0, cov_weight=1.0)
    assert float(reg(torch.ones(16, 4))) == pytest.approx(1.0, abs=1e-2)
    # +-1 in orthogonal patterns: unit std, no covariance
    z = torch.tensor([[1., 1.], [1., -1.], [-1., 1.], [-1., -1.]])
    z = z * (3 / 4)**0.5  # unbiased std 1
    assert float(reg(z)) == pytest.approx(0.0, abs=1e-3)


def test_regularisers_refuse_a_single_sample():
    for reg in (SIGReg(), VarianceCovarianceReg()):
        with pytest.raises(ValueError, match='N >= 2'):
            reg(torch.randn(1, 4))
