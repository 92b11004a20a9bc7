"""EMA update of the JEPA target encoder."""
import math
from typing import Optional

from mmengine.hooks import Hook

from hjepa.registry import HOOKS
from hjepa.utils.dist import unwrap_model


@HOOKS.register_module()
class TargetEncoderEMAHook(Hook):
    """Moves the target encoder towards the context encoder after each step.

    The momentum rises from ``momentum`` to ``end_momentum`` over training,
    computed from ``runner.iter / runner.max_iters`` (no state of its own,
    so resuming continues the schedule exactly). The model must provide
    ``update_target_encoder(momentum)``.

    Args:
        momentum: Momentum at the first iteration (I-JEPA: 0.996).
        end_momentum: Momentum at the end of training (I-JEPA: 1.0).
        schedule: ``'linear'`` (I-JEPA) or ``'cosine'`` (BYOL).
        interval: Update every ``interval`` iterations.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self,
                 momentum: float = 0.996,
                 end_momentum: float = 1.0,
                 schedule: str = 'linear',
                 interval: int = 1) -> None:
        for name, value in (('momentum', momentum), ('end_momentum',
                                                     end_momentum)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f'{name} {value} must be in [0, 1]')
        if schedule not in ('linear', 'cosine'):
            raise ValueError(
                f"schedule {schedule!r} must be 'linear' or 'cosine'")
        if interval < 1:
            raise ValueError(f'interval {interval} must be >= 1')
        self.momentum = momentum
        self.end_momentum = end_momentum
        self.schedule = schedule
        self.interval = interval

    def momentum_at(self, iteration: int, max_iters: int) -> float:
        """Momentum for the update that follows step ``iteration``."""
        t = min(max(iteration / max(max_iters, 1), 0.0), 1.0)
        if self.schedule == 'cosine':
            t = (1 - math.cos(math.pi * t)) / 2
        return self.momentum + (self.end_momentum - self.momentum) * t

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        if not self.every_n_train_iters(runner, self.interval):
            return
        optim_wrapper = getattr(runner, 'optim_wrapper', None)
        if hasattr(optim_wrapper, 'should_update') and \
                not optim_wrapper.should_update():
            return  # accumulating gradients: the encoder did not move
        model = unwrap_model(runner.model)
        m = self.momentum_at(runner.iter, runner.max_iters)
        model.update_target_encoder(m)
        runner.message_hub.update_scalar('train/ema_momentum', m)
