import pytest
import torch

from hjepa.evaluation import few_shot_accuracy


def _separable(classes=10, per_class=30):
    y = torch.arange(classes).repeat(per_class)
    x = torch.eye(classes, 16)[y] + 0.01 * torch.randn(len(y), 16)
    return x, y


@pytest.mark.parametrize('classifier', ['prototype', 'logistic'])
@pytest.mark.parametrize('n_way,k_shot', [(5, 1), (5, 5), (10, 10)])
def test_separable_features_are_perfect(classifier, n_way, k_shot):
    x, y = _separable()
    out = few_shot_accuracy(
        x, y, n_way, k_shot, n_query=15, episodes=20, classifier=classifier)
    assert out['top1'] == 100.0
    assert out['ci95'] == 0.0


@pytest.mark.parametrize('n_way', [5, 10])
def test_constant_features_are_chance(n_way):
    y = torch.arange(10).repeat(30)
    out = few_shot_accuracy(torch.ones(300, 8), y, n_way, 5, episodes=50)
    assert out['top1'] == pytest.approx(100.0 / n_way)


def test_interval_shrinks_with_episodes():
    torch.manual_seed(0)
    y = torch.arange(10).repeat(30)
    x = torch.eye(10, 16)[y] + 1.5 * torch.randn(300, 16)
    few = few_shot_accuracy(x, y, 5, 1, episodes=50)
    many = few_shot_accuracy(x, y, 5, 1, episodes=600)
    assert 20.0 < many['top1'] < 100.0
    assert many['ci95'] < few['ci95']


def test_too_few_samples_are_refused():
    y = torch.arange(5).repeat(10)
    with pytest.raises(ValueError, match='k_shot \\+ n_query'):
        few_shot_accuracy(torch.randn(50, 4), y, 5, 5, n_query=15)
    with pytest.raises(ValueError, match='10-way'):
        few_shot_accuracy(torch.randn(50, 4), y, 10, 1, n_query=1)
