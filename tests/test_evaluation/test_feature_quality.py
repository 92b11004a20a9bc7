import math

import pytest
import torch

from hjepa.evaluation import (alignment, effective_rank, mean_cosine,
                              normalized_std, uniformity)


def test_effective_rank_known_spectra():
    assert effective_rank(torch.eye(16)) == pytest.approx(16, rel=1e-4)
    line = torch.randn(100, 1) * torch.randn(1, 8)
    assert effective_rank(line) == pytest.approx(1.0, abs=1e-3)
    two = torch.cat([torch.eye(2), torch.zeros(2, 6)], 1).repeat(10, 1)
    assert effective_rank(two) == pytest.approx(2.0, rel=1e-4)
    with pytest.raises(ValueError, match='\\[N, D\\]'):
        effective_rank(torch.randn(5))


def test_collapsed_features():
    const = torch.ones(50, 8)
    assert normalized_std(const) == 0.0
    assert mean_cosine(const) == pytest.approx(1.0)
    assert uniformity(const) == pytest.approx(0.0)


def test_spread_features():
    torch.manual_seed(0)
    x = torch.randn(4000, 64)
    # uniform on the sphere: per-dimension std 1/sqrt(D), mean cosine 0
    assert normalized_std(x) == pytest.approx(1 / math.sqrt(64), rel=0.05)
    assert mean_cosine(x) == pytest.approx(0.0, abs=0.01)
    # E||x-y||^2 = 2 for independent points on a high-dim sphere
    assert uniformity(x[:500]) == pytest.approx(-4.0, abs=0.3)


def test_alignment():
    x = torch.randn(30, 5)
    assert alignment(x, 2 * x) == pytest.approx(0.0, abs=1e-6)
    assert alignment(x, -x) == pytest.approx(4.0)
    with pytest.raises(ValueError, match='one shape'):
        alignment(x, x[:3])
