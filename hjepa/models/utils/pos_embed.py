"""Fixed 2-D sine-cosine position embeddings."""
from typing import Tuple

import torch


def sincos_1d(embed_dim: int, positions: torch.Tensor) -> torch.Tensor:
    """1-D sine-cosine embedding of ``positions``.

    Args:
        embed_dim: Output dimension, even.
        positions: Positions of shape [N].

    Returns:
        Tensor of shape [N, embed_dim]: sines in the first half, cosines in
        the second.
    """
    if embed_dim % 2:
        raise ValueError(f'sin-cos embedding dim {embed_dim} must be even')
    omega = torch.arange(embed_dim // 2, dtype=torch.float64) / (embed_dim / 2)
    omega = 1.0 / 10000**omega  # [D/2]
    angles = positions.double()[:, None] * omega[None]  # [N, D/2]
    return torch.cat([angles.sin(), angles.cos()], dim=1).float()


def sincos_2d(embed_dim: int, grid_size: Tuple[int, int]) -> torch.Tensor:
    """2-D sine-cosine embedding of an ``H x W`` patch grid, row-major.

    Half of the channels encode the row, half the column, as in MAE and
    I-JEPA.

    Args:
        embed_dim: Output dimension, a multiple of 4.
        grid_size: ``(H, W)`` of the patch grid.

    Returns:
        Tensor of shape [H * W, embed_dim].
    """
    if embed_dim % 4:
        raise ValueError(
            f'2-D sin-cos embedding dim {embed_dim} must be a multiple of 4')
    h, w = grid_size
    rows = torch.arange(h).repeat_interleave(w)  # [H*W]
    cols = torch.arange(w).repeat(h)  # [H*W]
    return torch.cat(
        [sincos_1d(embed_dim // 2, rows),
         sincos_1d(embed_dim // 2, cols)],
        dim=1)
