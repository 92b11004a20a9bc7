"""A masker that draws the context and the targets as random token sets."""
from typing import Dict, Optional, Tuple

import torch

from hjepa.registry import MODELS


@MODELS.register_module()
class RandomTokenMasker:
    """Samples the context and the targets as random subsets of patches.

    A drop-in replacement for :class:`hjepa.MultiBlockMasker` with no
    spatial structure: each sample's context is a random set of
    ``round(context_ratio * H * W)`` patches, and each of its
    ``num_targets`` targets a random set of ``round(target_ratio * H * W)``
    of the remaining patches. Targets may overlap each other, never the
    context. Scattered targets nearly always have visible neighbours, so
    they can be predicted by local interpolation: a baseline that shows what
    I-JEPA's block masking adds.

    Args:
        num_targets: Targets per image (M).
        target_ratio: Size of one target, as a fraction of the grid.
        context_ratio: Size of the context, as a fraction of the grid.
        seed: Seed of the generator used when :meth:`sample` gets none.
    """

    def __init__(self,
                 num_targets: int = 4,
                 target_ratio: float = 0.15,
                 context_ratio: float = 0.5,
                 seed: int = 0) -> None:
        if num_targets < 1:
            raise ValueError(f'num_targets {num_targets} must be >= 1')
        if not 0 < target_ratio < 1:
            raise ValueError(f'target_ratio {target_ratio} must be in (0, 1)')
        if not 0 < context_ratio < 1:
            raise ValueError(
                f'context_ratio {context_ratio} must be in (0, 1)')
        if target_ratio + context_ratio > 1:
            raise ValueError(
                f'target_ratio {target_ratio} + context_ratio '
                f'{context_ratio} must be <= 1: targets are drawn from the '
                'patches outside the context')
        self.num_targets = num_targets
        self.target_ratio = float(target_ratio)
        self.context_ratio = float(context_ratio)
        self.generator = torch.Generator().manual_seed(seed)

    def sample(
        self,
        batch_size: int,
        grid_size: Tuple[int, int],
        generator: Optional[torch.Generator] = None
    ) -> Dict[str, torch.Tensor]:
        """Draw masks for one batch.

        Args:
            batch_size: B.
            grid_size: ``(H, W)`` of the patch grid.
            generator: Random generator; defaults to the masker's own.

        Returns:
            dict with ``context`` [B, N_ctx] and ``targets`` [B, M, N_tgt]
            long tensors of row-major patch indices in ``[0, H * W)``, each
            row sorted.
        """
        gen = generator if generator is not None else self.generator
        H, W = grid_size
        B, M, N = batch_size, self.num_targets, H * W
        n_ctx = max(1, round(self.context_ratio * N))
        n_tgt = max(1, round(self.target_ratio * N))
        if n_ctx + n_tgt > N:
            raise ValueError(
                f'{n_ctx} context + {n_tgt} target patches must fit in the '
                f'{N} patches of a {tuple(grid_size)} grid; lower '
                'context_ratio or target_ratio')

        perm = torch.rand(B, N, generator=gen).argsort(1)  # [B, N]
        ctx_idx = perm[:, :n_ctx].sort(1).values  # [B, N_ctx]
        rest = perm[:, n_ctx:].unsqueeze(1).expand(B, M, N - n_ctx)
        # Each target: the first n_tgt of a fresh shuffle of the rest.
        pick = torch.rand(B, M, N - n_ctx, generator=gen).argsort(2)
        tgt_idx = rest.gather(2, pick[..., :n_tgt])  # [B, M, N_tgt]
        return dict(context=ctx_idx, targets=tgt_idx.sort(2).values)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_targets={self.num_targets}, '
                f'target_ratio={self.target_ratio}, '
                f'context_ratio={self.context_ratio})')
