"""Weighted k-nearest-neighbour classification of frozen features."""
from typing import Dict, Sequence

import torch
import torch.nn.functional as F


@torch.no_grad()
def knn_predict(train_feats: torch.Tensor,
                train_labels: torch.Tensor,
                test_feats: torch.Tensor,
                num_classes: int,
                k: int = 20,
                temperature: float = 0.07,
                chunk_size: int = 1024) -> torch.Tensor:
    """Class scores by temperature-weighted cosine k-NN voting.

    Each test sample takes its ``k`` most cosine-similar training samples;
    neighbour ``j`` votes for its class with weight ``exp(sim_j / T)``
    (Wu et al., 2018; DINO).

    Args:
        train_feats: [N_train, D].
        train_labels: [N_train] in ``[0, num_classes)``.
        test_feats: [N_test, D].
        num_classes: C.
        k: Neighbours.
        temperature: T.
        chunk_size: Test samples scored at once.

    Returns:
        Scores [N_test, C].
    """
    if k < 1 or k > len(train_feats):
        raise ValueError(f'k {k} must be in [1, {len(train_feats)}]')
    if train_labels.min() < 0 or train_labels.max() >= num_classes:
        raise ValueError(f'train labels must be in [0, {num_classes}), got '
                         f'[{int(train_labels.min())}, '
                         f'{int(train_labels.max())}]')
    train = F.normalize(train_feats.float(), dim=1)
    scores = []
    for chunk in test_feats.float().split(chunk_size):
        sim = F.normalize(chunk, dim=1) @ train.T  # [n, N_train]
        top_sim, top_idx = sim.topk(k, dim=1)  # [n, k]
        weights = (top_sim / temperature).exp()
        votes = torch.zeros(len(chunk), num_classes)
        votes.scatter_add_(1, train_labels[top_idx], weights)
        scores.append(votes)
    return torch.cat(scores)


def knn_accuracy(train_feats: torch.Tensor,
                 train_labels: torch.Tensor,
                 test_feats: torch.Tensor,
                 test_labels: torch.Tensor,
                 ks: Sequence[int] = (20, ),
                 temperature: float = 0.07) -> Dict[str, float]:
    """Top-1 accuracy (%) of k-NN for every ``k`` in ``ks``."""
    num_classes = int(max(train_labels.max(), test_labels.max())) + 1
    out = {}
    for k in ks:
        scores = knn_predict(train_feats, train_labels, test_feats,
                             num_classes, k, temperature)
        correct = (scores.argmax(1) == test_labels).float().mean()
        out[f'knn_top1_k{k}'] = 100.0 * correct.item()
    return out
