"""Level specifications of the hierarchical head, and the head each
level's prediction goes through."""
import pytest
import torch
import torch.nn as nn

from hjepa.models.heads.levels import check_level, level_head


def test_region_grids_are_stored_as_pairs_of_python_ints():
    np = pytest.importorskip('numpy')
    assert check_level(1, dict(kind='region'))['grid'] == (1, 1)
    assert check_level(1, dict(kind='region', grid=2))['grid'] == (2, 2)
    assert check_level(1, dict(kind='region', grid=[2, 3]))['grid'] == (2, 3)
    lv = check_level(1,
                     dict(kind='region', grid=np.int64(4), sample=np.int64(3)))
    assert lv['grid'] == (4, 4) and type(lv['grid'][0]) is int
    assert lv['sample'] == 3 and type(lv['sample']) is int
    assert check_level(1, dict(kind='region',
                               grid=np.array([2, 3])))['grid'] == (2, 3)


@pytest.mark.parametrize('grid', [(2, 3, 4), 'ab', 2.5, (2, 1.5), True])
def test_a_grid_that_is_not_an_int_or_a_pair_is_refused_naming_the_level(grid):
    with pytest.raises(
            ValueError,
            match=r'level 1: region grid .* must be an int or an \(h, w\) '
            'pair of ints'):
        check_level(1, dict(kind='region', grid=grid))


def test_each_kind_gets_the_head_its_prediction_needs():
    assert isinstance(level_head(dict(kind='patch'), 8, 4), nn.Identity)
    assert isinstance(
        level_head(dict(kind='region', grid=(2, 2)), 8, 4), nn.Identity)
    assert isinstance(
        level_head(dict(kind='patch', proj=True), 8, 4), nn.Linear)
    window = level_head(dict(kind='window', side=2), 8, 4)
    assert isinstance(window, nn.Linear)
    assert (window.in_features, window.out_features) == (8, 8)
    assert isinstance(
        level_head(dict(kind='window', side=2, proj=False), 8, 4), nn.Identity)
    # depth levels read the predictor's width, image levels the encoder's
    depth = level_head(dict(kind='depth', layer=1), 8, 4)
    assert depth(torch.randn(3, 5, 4)).shape == (3, 5, 8)
    image = level_head(dict(kind='image'), 8, 4)
    assert image[1].out_features == 16  # hidden: 2 * in_dims by default
    assert image(torch.randn(3, 8)).shape == (3, 8)
    assert level_head(dict(kind='image', hidden=5), 8, 4)[1].out_features == 5


@pytest.mark.parametrize('side', [2.7, '4', 3, 1])
def test_a_window_side_that_is_not_a_power_of_2_int_is_refused(side):
    """2.7 was truncated to 2 and used: an option silently changed."""
    with pytest.raises(ValueError, match='window side .* must be a power'):
        check_level(0, dict(kind='window', side=side))
