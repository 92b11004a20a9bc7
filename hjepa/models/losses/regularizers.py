"""Anti-collapse regularisers on a batch of embeddings."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from hjepa.registry import MODELS


@MODELS.register_module()
class SIGReg(nn.Module):
    """Sketched isotropic Gaussian regulariser (LeJEPA, Balestriero & LeCun,
    2025).

    Pushes the distribution of a batch of embeddings towards an isotropic
    standard Gaussian: the embeddings are projected on random unit
    directions, and each 1-D projection is scored with the Epps-Pulley
    statistic, the weighted squared distance between its empirical
    characteristic function and the standard normal's,
    ``N * int w(t) |phi_N(t) - exp(-t^2 / 2)|^2 dt`` with
    ``w(t) = exp(-t^2 / 2)``, integrated by the trapezoid rule on
    ``[-t_max, t_max]``. The loss is the mean over directions. A collapsed
    batch (every embedding equal) scores far above a Gaussian one.

    Args:
        num_directions: Random directions per call (drawn afresh each call
            from the generator it is given).
        t_max: Half-width of the integration range.
        num_points: Points of the trapezoid rule on ``[0, t_max]`` (the
            integrand is even).
    """

    def __init__(self,
                 num_directions: int = 256,
                 t_max: float = 3.0,
                 num_points: int = 17) -> None:
        super().__init__()
        if num_directions < 1:
            raise ValueError(f'num_directions {num_directions} must be >= 1')
        if t_max <= 0 or num_points < 2:
            raise ValueError(f't_max {t_max} must be > 0 and num_points '
                             f'{num_points} >= 2')
        self.num_directions = num_directions
        t = torch.linspace(0, t_max, num_points)
        # trapezoid weights on [0, t_max], doubled for [-t_max, 0]
        dt = t_max / (num_points - 1)
        trap = torch.full((num_points, ), dt)
        trap[0] = trap[-1] = dt / 2
        phi = torch.exp(-t**2 / 2)  # N(0, 1)'s characteristic function
        self.register_buffer('t', t, persistent=False)
        self.register_buffer('phi', phi, persistent=False)
        self.register_buffer('weights', 2 * trap * phi, persistent=False)

    def forward(self,
                z: torch.Tensor,
                generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Mean Epps-Pulley statistic of ``z`` [N, D] over directions."""
        if z.ndim != 2 or z.shape[0] < 2:
            raise ValueError(f'SIGReg needs embeddings [N >= 2, D], got '
                             f'{tuple(z.shape)}')
        z = z.float()
        dirs = torch.randn(
            z.shape[1], self.num_directions, generator=generator).to(z.device)
        dirs = F.normalize(dirs, dim=0)  # [D, K] unit columns
        x = (z @ dirs).unsqueeze(-1) * self.t  # [N, K, T]
        cos_mean = x.cos().mean(0)  # [K, T]
        sin_mean = x.sin().mean(0)
        err = (cos_mean - self.phi).square() + sin_mean.square()
        return (err @ self.weights).mean() * z.shape[0]


@MODELS.register_module()
class VarianceCovarianceReg(nn.Module):
    """VICReg's variance and covariance terms (Bardes et al., 2022).

    ``relu(gamma - std_d)`` averaged over dimensions keeps every dimension's
    batch std above ``gamma``; the squared off-diagonal covariances, summed
    and divided by D, decorrelate dimensions.

    Args:
        gamma: Target std.
        cov_weight: Weight of the covariance term against the variance
            term.
        eps: Added to the variance under the square root.
    """

    def __init__(self,
                 gamma: float = 1.0,
                 cov_weight: float = 0.04,
                 eps: float = 1e-4) -> None:
        super().__init__()
        self.gamma = gamma
        self.cov_weight = cov_weight
        self.eps = eps

    def forward(self,
                z: torch.Tensor,
                generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Variance + weighted covariance terms of ``z`` [N, D]."""
        if z.ndim != 2 or z.shape[0] < 2:
            raise ValueError(f'the variance-covariance term needs '
                             f'embeddings [N >= 2, D], got {tuple(z.shape)}')
        z = z.float()
        z = z - z.mean(0)
        std = torch.sqrt(z.var(0) + self.eps)
        var_loss = F.relu(self.gamma - std).mean()
        D = z.shape[1]
        cov = (z.T @ z) / (z.shape[0] - 1)  # [D, D]
        off = cov - torch.diag_embed(torch.diagonal(cov))
        cov_loss = off.square().sum() / D
        return var_loss + self.cov_weight * cov_loss
