"""A schedule for the loss weights of the head's coarse levels."""
import math
from typing import Optional, Sequence

import torch
from mmengine.hooks import Hook

from hjepa.registry import HOOKS
from hjepa.utils.dist import unwrap_model


@HOOKS.register_module()
class LevelWeightScheduleHook(Hook):
    """Scales the loss weights of some levels over training.

    Before each iteration, level ``l`` of ``levels`` gets the weight
    ``w_l * factor``, where ``w_l`` is the head's configured weight and
    ``factor`` moves from ``start_factor`` to ``end_factor`` between the
    fractions ``begin`` and ``end`` of training (before: ``start_factor``,
    after: ``end_factor``). Computed from ``runner.iter / runner.max_iters``
    with no state of its own, so resuming continues the schedule exactly.

    With the defaults the coarse levels (every level but the patch level 0)
    weigh fully at the start and nothing at the end: their gradient, small
    on a fresh model, grows to exceed the patch level's late in short runs
    (``tools/analysis_tools/level_gradients.py``), and the schedule hands
    the end of training back to the patch level.

    Args:
        levels: Indices of the scaled levels; None: every level but 0.
        start_factor: Factor at (and before) ``begin``, >= 0.
        end_factor: Factor at (and after) ``end``, >= 0.
        schedule: ``'cosine'`` or ``'linear'``.
        begin: Fraction of training where the factor starts moving.
        end: Fraction of training where it arrives, > ``begin``.
    """

    priority = 'NORMAL'

    def __init__(self,
                 levels: Optional[Sequence[int]] = None,
                 start_factor: float = 1.0,
                 end_factor: float = 0.0,
                 schedule: str = 'cosine',
                 begin: float = 0.0,
                 end: float = 1.0) -> None:
        for name, value in (('start_factor', start_factor), ('end_factor',
                                                             end_factor)):
            if not (isinstance(value, (int, float)) and value >= 0
                    and math.isfinite(value)):
                raise ValueError(f'{name} {value!r} must be a finite '
                                 'number >= 0')
        if schedule not in ('cosine', 'linear'):
            raise ValueError(
                f"schedule {schedule!r} must be 'cosine' or 'linear'")
        if not 0.0 <= begin < end <= 1.0:
            raise ValueError(f'begin {begin} and end {end} must satisfy '
                             '0 <= begin < end <= 1')
        if levels is not None:
            levels = [int(i) for i in levels]
            if not levels or len(set(levels)) != len(levels):
                raise ValueError(f'levels {levels} must be distinct level '
                                 'indices, at least one')
        self.levels = levels
        self.start_factor = float(start_factor)
        self.end_factor = float(end_factor)
        self.schedule = schedule
        self.begin = begin
        self.end = end
        self._base: Optional[torch.Tensor] = None

    def factor_at(self, iteration: int, max_iters: int) -> float:
        """The factor for the step that follows ``iteration`` steps."""
        t = iteration / max(max_iters, 1)
        t = min(max((t - self.begin) / (self.end - self.begin), 0.0), 1.0)
        if self.schedule == 'cosine':
            t = (1 - math.cos(math.pi * t)) / 2
        return self.start_factor + (self.end_factor - self.start_factor) * t

    def _head(self, runner):
        head = getattr(unwrap_model(runner.model), 'head', None)
        if head is None or not hasattr(head, 'level_weights'):
            raise TypeError('LevelWeightScheduleHook needs a model whose '
                            '`head` has `level_weights` (e.g. '
                            f'HierarchicalLatentHead); got {type(head)}')
        return head

    def before_train(self, runner) -> None:
        head = self._head(runner)
        n = head.level_weights.numel()
        if self.levels is None:
            self.levels = list(range(1, n))
            if not self.levels:
                raise ValueError('LevelWeightScheduleHook scales the coarse '
                                 'levels, and the head has only level 0')
        bad = [i for i in self.levels if not 0 <= i < n]
        if bad:
            raise ValueError(f'levels {bad} are not levels of the head, '
                             f'which has {n} (0..{n - 1})')
        self._base = head.level_weights.detach().clone()

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        head = self._head(runner)
        f = self.factor_at(runner.iter, runner.max_iters)
        weights = self._base.clone()
        weights[self.levels] *= f
        head.level_weights.copy_(weights)
        runner.message_hub.update_scalar('train/level_weight_factor', f)

    def after_train(self, runner) -> None:
        # leave the configured weights, not the last step's, for whatever
        # reads the head afterwards (validation losses, an analysis tool)
        if self._base is not None:
            self._head(runner).level_weights.copy_(self._base)
