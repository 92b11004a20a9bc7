import pytest
import torch

from hjepa.models.utils import window_ids, window_pool
from hjepa.models.utils.pooling import region_ids, region_pool_matrix


def brute_force(tokens, idx, grid, level):
    H, W = grid
    side = 2**level
    nw = -(-W // side)
    out = {}
    for n, i in enumerate(idx.tolist()):
        r, c = divmod(i, W)
        out.setdefault((r // side) * nw + c // side, []).append(tokens[n])
    return {k: torch.stack(v).mean(0) for k, v in out.items()}


def test_level0_is_identity():
    x = torch.randn(2, 5, 3)
    idx = torch.randint(0, 64, (2, 5))
    pooled, valid = window_pool(x, idx, (8, 8), 0)
    assert pooled is x and valid.all()


def test_matches_2d_windows():
    torch.manual_seed(0)
    grid = (8, 8)
    idx = torch.stack(
        [torch.randperm(64)[:12].sort().values for _ in range(3)])
    x = torch.randn(3, 12, 4)
    for level in (1, 2):
        pooled, valid = window_pool(x, idx, grid, level)
        for b in range(3):
            want = brute_force(x[b], idx[b], grid, level)
            assert set(valid[b].nonzero().flatten().tolist()) == set(want)
            for w, v in want.items():
                torch.testing.assert_close(pooled[b, w], v)


def test_windows_follow_the_grid_not_the_sequence():
    # Patches 7 and 8 are neighbours in the sequence but sit at the ends of
    # two rows of an 8-wide grid: 8 falls in window 0, and 6, 7, 14, 15 in
    # the 2x2 window 3.
    ids, n = window_ids(torch.tensor([6, 7, 8, 14, 15]), (8, 8), 1)
    assert n == 16
    assert ids.tolist() == [3, 3, 0, 3, 3]


def test_odd_grid_has_partial_windows():
    ids, n = window_ids(torch.arange(9), (3, 3), 1)
    assert n == 4
    assert ids.tolist() == [0, 0, 1, 0, 0, 1, 2, 2, 3]


@pytest.mark.parametrize('grid,regions,sizes', [
    ((8, 8), (2, 2), [16] * 4),
    ((8, 8), (1, 1), [64]),
    ((14, 14), (3, 3), [25, 25, 20, 25, 25, 20, 20, 20, 16]),
    ((7, 5), (2, 2), [12, 8, 9, 6]),
])
def test_regions_tile_any_grid(grid, regions, sizes):
    ids = region_ids(grid, regions)
    assert ids.shape == (grid[0] * grid[1], )
    assert torch.bincount(ids).tolist() == sizes
    # regions are rectangles of the 2-D grid, row-major
    assert torch.equal(ids.view(grid), ids.view(grid).cummax(1).values)
    pool = region_pool_matrix(grid, regions)
    torch.testing.assert_close(pool.sum(1), torch.ones(len(sizes)))
    x = torch.randn(grid[0] * grid[1], 3)
    for r in range(len(sizes)):
        torch.testing.assert_close(pool[r] @ x, x[ids == r].mean(0))


def test_region_grid_larger_than_the_patch_grid_is_refused():
    with pytest.raises(ValueError, match=r'region grid \(9, 2\)'):
        region_ids((8, 8), (9, 2))
