"""Pooling of scattered patch tokens into windows of the 2-D patch grid."""
from typing import Tuple

import torch


def window_ids(idx: torch.Tensor, grid_size: Tuple[int, int],
               level: int) -> Tuple[torch.Tensor, int]:
    """Index of the ``2**level x 2**level`` window holding each patch.

    Args:
        idx: Row-major patch indices [..., N].
        grid_size: ``(H, W)`` of the patch grid.
        level: Windows are ``2**level`` patches on a side.

    Returns:
        Window indices of ``idx``'s shape, row-major over the window grid,
        and the number of windows.
    """
    H, W = grid_size
    side = 2**level
    win_w = -(-W // side)  # ceil: a partial last column is its own window
    win_h = -(-H // side)
    rows = torch.div(idx, W, rounding_mode='floor') // side
    cols = (idx % W) // side
    return rows * win_w + cols, win_h * win_w


def window_pool(tokens: torch.Tensor, idx: torch.Tensor, grid_size: Tuple[int,
                                                                          int],
                level: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Average tokens over the patches that fall in each 2-D grid window.

    Windows are squares of ``2**level`` patches on the patch grid (never
    runs of the flattened sequence); each window averages only the given
    tokens inside it, and windows holding none are marked invalid.

    Args:
        tokens: Tokens [B, N, D] at patch indices ``idx``.
        idx: Row-major patch indices [B, N].
        grid_size: ``(H, W)`` of the patch grid.
        level: 0 returns the tokens unchanged (every patch its own window).

    Returns:
        Window means [B, W_n, D] and a validity mask [B, W_n] (W_n = N for
        level 0, else the number of windows in the grid).
    """
    if level == 0:
        return tokens, torch.ones(
            idx.shape, dtype=torch.bool, device=idx.device)
    B, _, D = tokens.shape
    win, num_windows = window_ids(idx, grid_size, level)  # [B, N]
    sums = tokens.new_zeros(B, num_windows, D).scatter_add_(
        1,
        win.unsqueeze(-1).expand(-1, -1, D), tokens)  # [B, W_n, D]
    counts = tokens.new_zeros(B, num_windows).scatter_add_(
        1, win, tokens.new_ones(win.shape))  # [B, W_n]
    means = sums / counts.clamp(min=1).unsqueeze(-1)
    return means, counts > 0


def region_ids(grid_size: Tuple[int, int],
               region_grid: Tuple[int, int]) -> torch.Tensor:
    """Region of every patch when the patch grid is cut into
    ``region_grid`` near-equal regions.

    Rows are split into ``region_grid[0]`` bands and columns into
    ``region_grid[1]``, with sizes differing by at most one patch, so any
    grid works: an 8 x 8 grid in 2 x 2 regions gives 4 x 4 quadrants, a
    14 x 14 grid in 3 x 3 gives bands of 5, 5 and 4.

    Args:
        grid_size: ``(H, W)`` of the patch grid.
        region_grid: ``(h, w)`` regions, each at most the grid's side.

    Returns:
        Long tensor [H * W] of row-major region indices in ``[0, h * w)``.
    """
    H, W = grid_size
    h, w = region_grid
    if not (1 <= h <= H and 1 <= w <= W):
        raise ValueError(f'region grid {tuple(region_grid)} must be between '
                         f'(1, 1) and the patch grid {tuple(grid_size)}')
    rows = torch.arange(H) * h // H  # [H]
    cols = torch.arange(W) * w // W  # [W]
    return (rows[:, None] * w + cols[None, :]).flatten()


def region_pool_matrix(grid_size: Tuple[int, int],
                       region_grid: Tuple[int, int]) -> torch.Tensor:
    """Averaging matrix [R, H * W]: row r holds 1 / |region r| on the
    patches of region r (see :func:`region_ids`)."""
    ids = region_ids(grid_size, region_grid)
    num = region_grid[0] * region_grid[1]
    onehot = torch.nn.functional.one_hot(ids, num).T.float()  # [R, N]
    return onehot / onehot.sum(1, keepdim=True)
