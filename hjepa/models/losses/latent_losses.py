"""Distances between predicted and target representations."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from hjepa.registry import MODELS


class LatentLoss(nn.Module):
    """Base: a per-token distance averaged over the valid tokens.

    Subclasses implement :meth:`distance`, returning one value per token.
    """

    def distance(self, pred: torch.Tensor,
                 target: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self,
                pred: torch.Tensor,
                target: torch.Tensor,
                valid: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Mean distance.

        Args:
            pred: Predictions [..., N, D].
            target: Targets of the same shape.
            valid: Boolean mask [..., N] of the tokens that count; None for
                all.

        Returns:
            Scalar loss.
        """
        if pred.shape != target.shape:
            raise ValueError(f'prediction shape {tuple(pred.shape)} differs '
                             f'from target shape {tuple(target.shape)}')
        d = self.distance(pred.float(), target.float())  # [..., N]
        if valid is None:
            return d.mean()
        valid = valid.to(d.dtype)
        return (d * valid).sum() / valid.sum().clamp(min=1)


@MODELS.register_module()
class SmoothL1LatentLoss(LatentLoss):
    """I-JEPA's loss: smooth L1, averaged over feature dimensions.

    Args:
        beta: Where the loss turns from quadratic to linear.
    """

    def __init__(self, beta: float = 1.0) -> None:
        super().__init__()
        self.beta = beta

    def distance(self, pred, target):
        return F.smooth_l1_loss(
            pred, target, reduction='none', beta=self.beta).mean(-1)


@MODELS.register_module()
class MSELatentLoss(LatentLoss):
    """Squared error, averaged over feature dimensions."""

    def distance(self, pred, target):
        return (pred - target).pow(2).mean(-1)


@MODELS.register_module()
class CosineLatentLoss(LatentLoss):
    """One minus the cosine similarity of each token pair."""

    def distance(self, pred, target):
        return 1 - F.cosine_similarity(pred, target, dim=-1, eps=1e-6)
