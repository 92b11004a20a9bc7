"""Weighted k-nearest-neighbour classification of frozen features."""
from typing import Dict, Sequence

import torch
import torch.nn.functional as F


@torch.no_grad()
def knn_scores(train_feats: torch.Tensor,
               train_labels: torch.Tensor,
               test_feats: torch.Tensor,
               num_classes: int,
               ks: Sequence[int] = (20, ),
               temperature: float = 0.07,
               chunk_size: int = 1024) -> Dict[int, torch.Tensor]:
    """Class scores by temperature-weighted cosine k-NN voting, for every
    ``k`` in ``ks`` from one similarity pass.

    Each test sample takes its ``k`` most cosine-similar training samples;
    neighbour ``j`` votes for its class with weight ``exp(sim_j / T)``
    (Wu et al., 2018; DINO).

    Args:
        train_feats: [N_train, D].
        train_labels: [N_train] in ``[0, num_classes)``.
        test_feats: [N_test, D].
        num_classes: C.
        ks: Neighbour counts.
        temperature: T.
        chunk_size: Test samples scored at once.

    Returns:
        ``{k: scores [N_test, C]}``.
    """
    if not ks:
        raise ValueError('k-NN needs at least one k, got none')
    for k in ks:
        if k < 1 or k > len(train_feats):
            raise ValueError(f'k {k} must be in [1, {len(train_feats)}]')
    if train_labels.min() < 0 or train_labels.max() >= num_classes:
        raise ValueError(f'train labels must be in [0, {num_classes}), got '
                         f'[{int(train_labels.min())}, '
                         f'{int(train_labels.max())}]')
    train = F.normalize(train_feats.float(), dim=1)
    scores = {k: [] for k in ks}
    for chunk in test_feats.float().split(chunk_size):
        sim = F.normalize(chunk, dim=1) @ train.T  # [n, N_train]
        top_sim, top_idx = sim.topk(max(ks), dim=1)  # [n, k_max], sorted
        weights = (top_sim / temperature).exp()
        top_labels = train_labels[top_idx]
        for k in ks:
            votes = torch.zeros(len(chunk), num_classes)
            votes.scatter_add_(1, top_labels[:, :k], weights[:, :k])
            scores[k].append(votes)
    return {k: torch.cat(v) for k, v in scores.items()}


def knn_predict(train_feats: torch.Tensor,
                train_labels: torch.Tensor,
                test_feats: torch.Tensor,
                num_classes: int,
                k: int = 20,
                temperature: float = 0.07,
                chunk_size: int = 1024) -> torch.Tensor:
    """Class scores [N_test, C] of k-NN with one ``k``; see
    :func:`knn_scores`."""
    return knn_scores(train_feats, train_labels, test_feats, num_classes,
                      (k, ), temperature, chunk_size)[k]


def knn_accuracy(train_feats: torch.Tensor,
                 train_labels: torch.Tensor,
                 test_feats: torch.Tensor,
                 test_labels: torch.Tensor,
                 ks: Sequence[int] = (20, ),
                 temperature: float = 0.07) -> Dict[str, float]:
    """Top-1 accuracy (%) of k-NN for every ``k`` in ``ks``, as
    ``{'top1_k<k>': accuracy}``."""
    num_classes = int(max(train_labels.max(), test_labels.max())) + 1
    scores = knn_scores(train_feats, train_labels, test_feats, num_classes,
                        tuple(ks), temperature)
    return {
        f'top1_k{k}':
        100.0 * (s.argmax(1) == test_labels).float().mean().item()
        for k, s in scores.items()
    }
