import pytest
import torch

from hjepa.evaluation import knn_accuracy, knn_predict, knn_scores


def test_separable_features_are_perfect():
    torch.manual_seed(0)
    centers = torch.eye(4) * 10
    train_y = torch.arange(4).repeat(25)
    test_y = torch.arange(4).repeat(10)
    train_x = centers[train_y] + 0.1 * torch.randn(100, 4)
    test_x = centers[test_y] + 0.1 * torch.randn(40, 4)
    acc = knn_accuracy(train_x, train_y, test_x, test_y, ks=(1, 10, 20))
    assert acc == {'top1_k1': 100.0, 'top1_k10': 100.0, 'top1_k20': 100.0}


def test_constant_features_are_chance():
    train_y = torch.arange(10).repeat(20)
    test_y = torch.arange(10).repeat(10)
    acc = knn_accuracy(
        torch.ones(200, 8), train_y, torch.ones(100, 8), test_y, ks=(200, ))
    # every class gets the same votes: argmax picks one class, 10% right
    assert acc['top1_k200'] == pytest.approx(10.0)


def test_temperature_weighted_votes():
    # Two neighbours of class 0 far away, one of class 1 very close.
    train_x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    train_y = torch.tensor([0, 1, 1])
    test_x = torch.tensor([[1.0, 0.05]])
    scores = knn_predict(train_x, train_y, test_x, 2, k=3, temperature=0.07)
    assert scores.argmax(1).item() == 0


def test_bad_k_and_labels():
    x = torch.randn(5, 3)
    with pytest.raises(ValueError, match='k 6'):
        knn_predict(x, torch.zeros(5, dtype=torch.long), x, 2, k=6)
    with pytest.raises(ValueError, match='labels'):
        knn_predict(x, torch.tensor([0, 1, 2, 0, -1]), x, 3, k=2)


def test_one_pass_scores_every_k_as_alone():
    torch.manual_seed(0)
    dims, temperature = 16, 0.07
    train_x, test_x = torch.randn(300, dims), torch.randn(50, dims)
    train_y = torch.randint(0, 5, (300, ))
    many = knn_scores(
        train_x,
        train_y,
        test_x,
        5,
        ks=(1, 7, 40),
        temperature=temperature,
        chunk_size=16)
    eps = torch.finfo(torch.float32).eps
    for k in (1, 7, 40):
        alone = knn_predict(
            train_x, train_y, test_x, 5, k=k, temperature=temperature)
        # The two calls multiply different chunk shapes, so a cosine may
        # differ by ~dims ulps; exp(sim / T) turns that into a relative
        # error of dims * eps / T in each vote, and a sum of k positive
        # votes adds ~k * eps. Classes without votes are exactly 0 in both.
        rtol = 4 * (dims * eps / temperature + k * eps)
        torch.testing.assert_close(many[k], alone, rtol=rtol, atol=0)
        assert torch.equal(many[k].argmax(1), alone.argmax(1))
