import pytest
import torch

from hjepa.evaluation import linear_probe


def _blobs(n_per_class, classes=4, dims=8, spread=0.1, seed=0):
    gen = torch.Generator().manual_seed(seed)
    y = torch.arange(classes).repeat(n_per_class)
    x = torch.eye(classes, dims)[y] * 5 + spread * torch.randn(
        len(y), dims, generator=gen)
    return x, y


def test_separable_features_are_perfect():
    train_x, train_y = _blobs(50)
    test_x, test_y = _blobs(20, seed=1)
    out = linear_probe(
        train_x,
        train_y,
        test_x,
        test_y,
        lrs=(1e-2, ),
        epochs=20,
        batch_size=64)
    assert out['top1'] == 100.0
    assert out['val_top1_lr0.01'] == 100.0


def test_constant_features_are_chance():
    train_y = torch.arange(10).repeat(30)
    test_y = torch.arange(10).repeat(10)
    out = linear_probe(
        torch.ones(300, 6),
        train_y,
        torch.ones(100, 6),
        test_y,
        lrs=(1e-2, ),
        epochs=5)
    # one logit vector for every sample: one class predicted, 10% right
    assert out['top1'] == pytest.approx(10.0)


def test_lr_is_picked_on_the_training_split_only():
    train_x, train_y = _blobs(50, spread=2.0)
    test_x, test_y = _blobs(20, spread=2.0, seed=1)
    lrs = (1e-5, 1e-2)
    out = linear_probe(train_x, train_y, test_x, test_y, lrs=lrs, epochs=10)
    shuffled = linear_probe(
        train_x,
        train_y,
        test_x,
        test_y[torch.randperm(len(test_y))],
        lrs=lrs,
        epochs=10)
    assert out['best_lr'] == shuffled['best_lr'] == 1e-2
    assert out['val_top1_lr1e-05'] == shuffled['val_top1_lr1e-05']


@pytest.mark.parametrize('kwargs,match', [
    (dict(val_fraction=1.0), 'val_fraction'),
    (dict(lrs=()), 'at least one'),
    (dict(lrs=(-1.0, )), 'learning rate'),
])
def test_bad_arguments(kwargs, match):
    x, y = _blobs(10)
    with pytest.raises(ValueError, match=match):
        linear_probe(x, y, x, y, **kwargs)
