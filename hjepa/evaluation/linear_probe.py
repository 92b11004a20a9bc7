"""Linear probe on cached frozen features, learning rate picked on a split."""
from typing import Dict, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F


def standardize(train: torch.Tensor,
                *others: torch.Tensor,
                eps: float = 1e-6) -> Tuple[torch.Tensor, ...]:
    """Z-score every tensor with the mean and std of ``train``'s columns."""
    mean, std = train.mean(0), train.std(0) + eps
    return tuple((x - mean) / std for x in (train, ) + others)


def train_linear(x: torch.Tensor,
                 y: torch.Tensor,
                 num_classes: int,
                 lr: float,
                 epochs: int = 100,
                 batch_size: int = 1024,
                 weight_decay: float = 5e-4,
                 seed: int = 0) -> nn.Linear:
    """A linear classifier on [N, D] features by AdamW with a cosine lr.

    Features should already be standardised (see :func:`standardize`).
    """
    if lr <= 0:
        raise ValueError(f'learning rate {lr} must be > 0')
    gen = torch.Generator().manual_seed(seed)
    head = nn.Linear(x.shape[1], num_classes)
    with torch.no_grad():
        head.weight.normal_(0, 0.01, generator=gen)
        head.bias.zero_()
    opt = torch.optim.AdamW(
        head.parameters(), lr=lr, weight_decay=weight_decay)
    steps_per_epoch = -(-len(x) // batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(
        opt, T_max=epochs * steps_per_epoch)
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=gen)
        for idx in order.split(batch_size):
            loss = F.cross_entropy(head(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    return head


@torch.no_grad()
def accuracy(head: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Top-1 accuracy in percent."""
    return 100.0 * float((head(x).argmax(1) == y).float().mean())


def linear_probe(train_x: torch.Tensor,
                 train_y: torch.Tensor,
                 test_x: torch.Tensor,
                 test_y: torch.Tensor,
                 lrs: Sequence[float] = (1e-3, 3e-3, 1e-2),
                 val_fraction: float = 0.1,
                 epochs: int = 100,
                 batch_size: int = 1024,
                 weight_decay: float = 5e-4,
                 seed: int = 0) -> Dict[str, float]:
    """Test accuracy of a linear classifier with its lr chosen on a split.

    Each lr in ``lrs`` trains on ``1 - val_fraction`` of the training
    features and is scored on the held-out rest; the best one is retrained
    on all training features and scored once on the test features. The
    test set never takes part in the choice.

    Args:
        train_x: [N, D] frozen training features.
        train_y: [N] labels.
        test_x: [M, D].
        test_y: [M].
        lrs: Learning rates to sweep.
        val_fraction: Share of the training set held out for the sweep.
        epochs, batch_size, weight_decay: The AdamW recipe.
        seed: Split, init and shuffling seed.

    Returns:
        ``top1`` on the test set, ``best_lr``, and ``val_top1_lr<lr>`` for
        every swept lr.
    """
    if not 0 < val_fraction < 1:
        raise ValueError(f'val_fraction {val_fraction} must be in (0, 1)')
    if not lrs:
        raise ValueError('lrs must hold at least one learning rate')
    num_classes = int(max(train_y.max(), test_y.max())) + 1
    gen = torch.Generator().manual_seed(seed)
    perm = torch.randperm(len(train_x), generator=gen)
    n_val = max(1, int(round(val_fraction * len(train_x))))
    val_idx, fit_idx = perm[:n_val], perm[n_val:]
    fit_x, val_x = standardize(train_x[fit_idx].float(),
                               train_x[val_idx].float())
    recipe = dict(
        epochs=epochs,
        batch_size=batch_size,
        weight_decay=weight_decay,
        seed=seed)
    out = {}
    for lr in lrs:
        head = train_linear(fit_x, train_y[fit_idx], num_classes, lr, **recipe)
        out[f'val_top1_lr{lr:g}'] = accuracy(head, val_x, train_y[val_idx])
    best_lr = max(lrs, key=lambda lr: out[f'val_top1_lr{lr:g}'])
    all_x, test_x = standardize(train_x.float(), test_x.float())
    head = train_linear(all_x, train_y, num_classes, best_lr, **recipe)
    out['top1'] = accuracy(head, test_x, test_y)
    out['best_lr'] = best_lr
    return out
