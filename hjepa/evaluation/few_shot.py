"""N-way K-shot episodes on frozen features."""
import math
from typing import Dict, Optional

import torch
import torch.nn.functional as F


def _prototype_predict(support: torch.Tensor, support_y: torch.Tensor,
                       query: torch.Tensor, n_way: int) -> torch.Tensor:
    """Nearest class mean by cosine similarity."""
    protos = torch.zeros(n_way,
                         support.shape[1]).index_add_(0, support_y,
                                                      support)  # [n_way, D]
    return (query @ F.normalize(protos, dim=1).T).argmax(1)


def _logistic_predict(support: torch.Tensor,
                      support_y: torch.Tensor,
                      query: torch.Tensor,
                      n_way: int,
                      steps: int = 100) -> torch.Tensor:
    """Multinomial logistic regression fitted on the support set (L-BFGS)."""
    w = torch.zeros(support.shape[1], n_way, requires_grad=True)
    b = torch.zeros(n_way, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=steps)

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(support @ w + b,
                               support_y) + 1e-3 * w.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return (query @ w + b).argmax(1)


def episodes_infeasible(labels: torch.Tensor, n_way: int, k_shot: int,
                        n_query: int) -> Optional[str]:
    """Why ``labels`` cannot hold N-way K-shot episodes, or None if they
    can."""
    _, counts = labels.unique(return_counts=True)
    if n_way > len(counts):
        return (f'{n_way}-way episodes need {n_way} classes, the features '
                f'have {len(counts)}')
    if counts.min() < k_shot + n_query:
        return (f'every class needs k_shot + n_query = {k_shot + n_query} '
                f'samples, the smallest has {int(counts.min())}')
    return None


@torch.no_grad()
def few_shot_accuracy(feats: torch.Tensor,
                      labels: torch.Tensor,
                      n_way: int = 5,
                      k_shot: int = 1,
                      n_query: int = 15,
                      episodes: int = 600,
                      classifier: str = 'prototype',
                      seed: int = 0) -> Dict[str, float]:
    """Mean accuracy and 95% interval over random N-way K-shot episodes.

    Each episode draws ``n_way`` classes, then ``k_shot`` support and
    ``n_query`` query samples per class, without overlap; features are
    centred on the episode's support mean and L2-normalised before the
    classifier sees them.

    Args:
        feats: [N, D] frozen features.
        labels: [N] class labels.
        n_way: Classes per episode.
        k_shot: Labelled samples per class.
        n_query: Test samples per class.
        episodes: Number of episodes.
        classifier: ``'prototype'`` (nearest class mean, cosine) or
            ``'logistic'`` (logistic regression on the support set).
        seed: Episode sampling seed.

    Returns:
        ``top1`` (mean accuracy, %) and ``ci95`` (half-width of the 95%
        normal interval of the mean, %).
    """
    if classifier not in ('prototype', 'logistic'):
        raise ValueError(f"classifier {classifier!r} must be 'prototype' or "
                         "'logistic'")
    why = episodes_infeasible(labels, n_way, k_shot, n_query)
    if why:
        raise ValueError(why)
    classes = labels.unique()
    by_class = [torch.nonzero(labels == c).flatten() for c in classes]
    gen = torch.Generator().manual_seed(seed)
    feats = feats.float()
    accs = []
    for _ in range(episodes):
        picked = torch.randperm(len(classes), generator=gen)[:n_way]
        s_idx, q_idx = [], []
        for c in picked.tolist():
            pool = by_class[c]
            order = pool[torch.randperm(len(pool), generator=gen)]
            s_idx.append(order[:k_shot])
            q_idx.append(order[k_shot:k_shot + n_query])
        support, query = feats[torch.cat(s_idx)], feats[torch.cat(q_idx)]
        centre = support.mean(0)
        support = F.normalize(support - centre, dim=1)
        query = F.normalize(query - centre, dim=1)
        s_y = torch.arange(n_way).repeat_interleave(k_shot)
        q_y = torch.arange(n_way).repeat_interleave(n_query)
        if classifier == 'prototype':
            pred = _prototype_predict(support, s_y, query, n_way)
        else:
            with torch.enable_grad():
                pred = _logistic_predict(support, s_y, query, n_way)
        accs.append(float((pred == q_y).float().mean()))
    accs = torch.tensor(accs, dtype=torch.float64)
    ci95 = 1.96 * float(accs.std()) / math.sqrt(episodes) if episodes > 1 \
        else float('nan')
    return dict(top1=100.0 * float(accs.mean()), ci95=100.0 * ci95)
