"""I-JEPA's multi-block mask sampler, vectorised over the batch."""
import math
from typing import Dict, Optional, Tuple

import torch

from hjepa.registry import MODELS


def _check_range(name: str, value: Tuple[float, float], low: float,
                 high: float) -> Tuple[float, float]:
    if len(value) != 2 or not low < value[0] <= value[1] <= high:
        raise ValueError(f'{name} {tuple(value)} must be an increasing pair '
                         f'(min, max) with {low} < min <= max <= {high}')
    return float(value[0]), float(value[1])


@MODELS.register_module()
class MultiBlockMasker:
    """Samples target blocks and a context block on the patch grid.

    For each batch one target block size and one context block size are
    drawn (so every sample has equally many target patches); every sample
    gets its own block positions. The context is a large block with all
    target patches removed; since that leaves a different number of patches
    per sample, each sample keeps a random subset of its context patches of
    the batch's smallest size (the original sampler always dropped the last
    ones), or, with ``pad_context=True``, keeps all of them, padded to the
    batch's largest context with a ``context_mask`` that the encoder and the
    predictor use to ignore the padding. On the 8x8 CIFAR grid the batch
    minimum keeps 19 of a sample's 30 context patches on average (128
    samples, the default blocks). Block positions cover the whole grid, last
    row and column included.

    Args:
        num_targets: Target blocks per image.
        target_scale: Range of a target block's area, as a fraction of the
            grid.
        target_aspect_ratio: Range of a target block's height / width.
        context_scale: Range of the context block's area.
        context_aspect_ratio: Range of the context block's height / width.
        min_context: Fewest context patches a sample may keep; positions are
            redrawn for samples with fewer.
        allow_overlap: Keep target patches in the context (not I-JEPA).
        pad_context: Keep every sample's whole context, padded, instead of
            cutting every sample to the batch's smallest context.
        max_tries: Redraws before giving up with an error.
        seed: Seed of the generator used when :meth:`sample` gets none.
    """

    def __init__(self,
                 num_targets: int = 4,
                 target_scale: Tuple[float, float] = (0.15, 0.2),
                 target_aspect_ratio: Tuple[float, float] = (0.75, 1.5),
                 context_scale: Tuple[float, float] = (0.85, 1.0),
                 context_aspect_ratio: Tuple[float, float] = (1.0, 1.0),
                 min_context: int = 4,
                 allow_overlap: bool = False,
                 pad_context: bool = False,
                 max_tries: int = 50,
                 seed: int = 0) -> None:
        if num_targets < 1:
            raise ValueError(f'num_targets {num_targets} must be >= 1')
        if min_context < 1:
            raise ValueError(f'min_context {min_context} must be >= 1')
        self.num_targets = num_targets
        self.target_scale = _check_range('target_scale', target_scale, 0, 1)
        self.target_aspect_ratio = _check_range('target_aspect_ratio',
                                                target_aspect_ratio, 0,
                                                math.inf)
        self.context_scale = _check_range('context_scale', context_scale, 0, 1)
        self.context_aspect_ratio = _check_range('context_aspect_ratio',
                                                 context_aspect_ratio, 0,
                                                 math.inf)
        self.min_context = min_context
        self.allow_overlap = allow_overlap
        self.pad_context = pad_context
        self.max_tries = max_tries
        self.generator = torch.Generator().manual_seed(seed)

    @staticmethod
    def _block_size(scale: Tuple[float, float], aspect: Tuple[float, float],
                    grid: Tuple[int,
                                int], gen: torch.Generator) -> Tuple[int, int]:
        u = torch.rand(2, generator=gen).tolist()
        s = scale[0] + u[0] * (scale[1] - scale[0])
        r = aspect[0] + u[1] * (aspect[1] - aspect[0])
        area = s * grid[0] * grid[1]
        h = min(max(round(math.sqrt(area * r)), 1), grid[0])
        w = min(max(round(math.sqrt(area / r)), 1), grid[1])
        return h, w

    @staticmethod
    def _place(n: int, size: Tuple[int, int], grid: Tuple[int, int],
               gen: torch.Generator) -> torch.Tensor:
        """Boolean masks [n, H, W] of one ``size`` block at random places."""
        H, W = grid
        h, w = size
        top = torch.randint(0, H - h + 1, (n, 1, 1), generator=gen)
        left = torch.randint(0, W - w + 1, (n, 1, 1), generator=gen)
        rows = torch.arange(H).view(1, H, 1)
        cols = torch.arange(W).view(1, 1, W)
        return ((rows >= top) & (rows < top + h) & (cols >= left) &
                (cols < left + w))

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
            long tensors of row-major patch indices, each row sorted; with
            ``pad_context``, also ``context_mask`` [B, N_ctx], True for a
            sample's context patches, which come first in each context row,
            sorted (the padding after them holds the other patch indices,
            also sorted).
        """
        gen = generator if generator is not None else self.generator
        H, W = grid_size
        B, M = batch_size, self.num_targets
        t_size = self._block_size(self.target_scale, self.target_aspect_ratio,
                                  grid_size, gen)
        c_size = self._block_size(self.context_scale,
                                  self.context_aspect_ratio, grid_size, gen)

        targets = self._place(B * M, t_size, grid_size, gen).view(B, M, H, W)
        context = self._place(B, c_size, grid_size, gen)  # [B, H, W]
        if not self.allow_overlap:
            context = context & ~targets.any(1)
        for attempt in range(self.max_tries + 1):
            bad = context.flatten(1).sum(1) < self.min_context  # [B]
            if not bad.any():
                break
            if attempt == self.max_tries:
                raise RuntimeError(
                    f'after {self.max_tries} draws some context kept fewer '
                    f'than min_context={self.min_context} patches (targets '
                    f'of {t_size}, context block of {c_size} on a '
                    f'{grid_size} grid); lower num_targets or target_scale, '
                    'or raise context_scale')
            n_bad = int(bad.sum())
            new_t = self._place(n_bad * M, t_size, grid_size,
                                gen).view(n_bad, M, H, W)
            new_c = self._place(n_bad, c_size, grid_size, gen)
            if not self.allow_overlap:
                new_c = new_c & ~new_t.any(1)
            targets[bad] = new_t
            context[bad] = new_c

        # Every target block has h * w patches: nonzero lists them in order.
        n_tgt = t_size[0] * t_size[1]
        tgt_idx = targets.view(B * M, H * W).nonzero()[:, 1].view(B, M, n_tgt)

        context = context.view(B, H * W)
        if self.pad_context:
            # context patches first, in grid order, then the rest
            order = (~context).to(torch.uint8).sort(dim=1, stable=True)
            counts = context.sum(1, keepdim=True)  # [B, 1]
            n_max = int(counts.max())
            valid = torch.arange(n_max).unsqueeze(0) < counts
            return dict(
                context=order.indices[:, :n_max],
                context_mask=valid,
                targets=tgt_idx)
        # Keep a random subset of each context of the batch's smallest size.
        n_ctx = int(context.sum(1).min())
        scores = torch.rand(B, H * W, generator=gen).masked_fill_(~context, -1)
        ctx_idx = scores.topk(n_ctx, dim=1).indices.sort(dim=1).values
        return dict(context=ctx_idx, targets=tgt_idx)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_targets={self.num_targets}, '
                f'target_scale={self.target_scale}, '
                f'target_aspect_ratio={self.target_aspect_ratio}, '
                f'context_scale={self.context_scale}, '
                f'context_aspect_ratio={self.context_aspect_ratio}, '
                f'allow_overlap={self.allow_overlap}, '
                f'pad_context={self.pad_context})')
