"""Feature-quality statistics: effective rank, spread, alignment, uniformity.

All functions take features [N, D] (rows are samples) and return floats, so
they serve both the offline protocol and the collapse monitor.
"""
import math
from typing import Dict, Tuple

import torch
import torch.nn.functional as F

from hjepa.models.utils.pooling import window_pool


def effective_rank(feats: torch.Tensor, eps: float = 1e-7) -> float:
    """RankMe (Garrido et al., 2023): ``exp`` of the singular-value entropy.

    Args:
        feats: [N, D]; not centred, as in the paper.
        eps: Added to the normalised singular values inside the log.

    Returns:
        A number in ``[1, min(N, D)]``: ``min(N, D)`` for a spectrum that is
        flat, 1 for features on a single line (collapse).
    """
    if feats.dim() != 2 or min(feats.shape) < 1:
        raise ValueError(f'features must be [N, D] with N, D >= 1, got '
                         f'{tuple(feats.shape)}')
    s = torch.linalg.svdvals(feats.double())
    if s.sum() <= 0:
        return 1.0
    p = s / s.sum() + eps
    return float(torch.exp(-(p * p.log()).sum()))


def normalized_std(feats: torch.Tensor) -> float:
    """Mean per-dimension std of L2-normalised features.

    ``1/sqrt(D)`` for features spread evenly over the sphere, 0 when every
    sample maps to the same direction (the statistic of SimSiam's collapse
    analysis).
    """
    return float(F.normalize(feats.float(), dim=1).std(0).mean())


def mean_cosine(feats: torch.Tensor) -> float:
    """Mean cosine similarity over distinct pairs of rows; 1 at collapse."""
    z = F.normalize(feats.float(), dim=1)
    n = len(z)
    if n < 2:
        raise ValueError(f'mean cosine needs >= 2 samples, got {n}')
    total = z.sum(0)
    return float((total @ total - n) / (n * (n - 1)))


def alignment(x: torch.Tensor, y: torch.Tensor, alpha: float = 2.0) -> float:
    """Wang & Isola (2020) alignment of positive pairs ``(x_i, y_i)``.

    ``E ||f(x) - f(y)||^alpha`` on L2-normalised features: 0 when both views
    map to the same point; lower is better.
    """
    if x.shape != y.shape:
        raise ValueError(f'paired features must have one shape, got '
                         f'{tuple(x.shape)} and {tuple(y.shape)}')
    x, y = F.normalize(x.float(), dim=1), F.normalize(y.float(), dim=1)
    return float((x - y).norm(dim=1).pow(alpha).mean())


def uniformity(feats: torch.Tensor, t: float = 2.0) -> float:
    """Wang & Isola (2020) uniformity: ``log E exp(-t ||f(x) - f(y)||^2)``.

    Over distinct pairs of L2-normalised features; 0 at collapse, more
    negative the more evenly the features cover the sphere.
    """
    z = F.normalize(feats.float(), dim=1)
    sq = torch.pdist(z).pow(2)
    return float(sq.mul(-t).exp().mean().log())


def feature_statistics(feats: torch.Tensor) -> Dict[str, float]:
    """Effective rank, spread and mean cosine of [N, D] features.

    ``std`` is :func:`normalized_std` times ``sqrt(D)``, so it reads the
    same at any width: about 1 for features spread evenly over the sphere,
    0 at collapse.
    """
    return dict(
        rank=effective_rank(feats),
        std=normalized_std(feats) * math.sqrt(feats.shape[1]),
        mean_cos=mean_cosine(feats))


def level_statistics(tokens: torch.Tensor, grid: Tuple[int, int],
                     num_levels: int) -> Dict[str, Dict[str, float]]:
    """:func:`feature_statistics` of patch tokens pooled per hierarchy level.

    Level ``l`` averages the tokens over ``2**l x 2**l`` windows of the
    patch grid (the granularities H-JEPA predicts); every window of every
    image is a sample.

    Args:
        tokens: [B, N, D], all ``N = grid[0] * grid[1]`` patches in order.
        grid: Patch grid (rows, columns).
        num_levels: Levels 0 .. num_levels - 1.

    Returns:
        ``{'level<l>': statistics}``.
    """
    B, N, _ = tokens.shape
    if N != grid[0] * grid[1]:
        raise ValueError(f'{N} tokens do not fill a {grid[0]} x {grid[1]} '
                         'patch grid')
    idx = torch.arange(N).expand(B, -1)
    out = {}
    for level in range(num_levels):
        pooled, _ = window_pool(tokens, idx, grid, level)  # [B, W, D]
        out[f'level{level}'] = feature_statistics(pooled.flatten(0, 1))
    return out
