"""Stops a run whose loss or gradient norm is no longer a number."""
import math
from typing import Dict, Optional

import torch
from mmengine.hooks import Hook

from hjepa.registry import HOOKS
from hjepa.utils.dist import unwrap_model


class NonFiniteLossError(RuntimeError):
    """Raised by :class:`NonFiniteLossHook`."""


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Stops training at the first non-finite loss; never saves NaN weights.

    After every training iteration, every logged value whose name holds
    ``'loss'`` (the total and each level's) and the gradient norm (where
    ``optim_wrapper.clip_grad`` computes one; without it, non-finite
    gradients show in the next iteration's loss) must be finite, or the hook
    raises :class:`NonFiniteLossError` naming the iteration, the non-finite
    losses with their values, the learning rate and the last checkpoint
    written (the one to resume from, with a lower learning rate). Before a
    checkpoint is saved, every model parameter must be finite, or the save
    is refused with the same error, so the last checkpoint on disk stays a
    good one.
    """

    # before CheckpointHook (VERY_LOW) saves at the end of an iteration
    priority = 'ABOVE_NORMAL'

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        values = self._losses(outputs)
        grad_norm = runner.message_hub.log_scalars.get('train/grad_norm')
        if grad_norm is not None and len(grad_norm.data[0]):
            values['grad_norm'] = float(grad_norm.current())
        bad = {k: v for k, v in values.items() if not math.isfinite(v)}
        if bad:
            values = ', '.join(f'{k}={v}' for k, v in bad.items())
            what = 'gradient norm' if list(bad) == ['grad_norm'] else 'loss'
            raise NonFiniteLossError(
                f'non-finite {what} at iteration {runner.iter + 1} (epoch '
                f'{runner.epoch + 1}): {values}; {self._state(runner)}. '
                'Lower the learning rate, or clip gradients '
                '(optim_wrapper.clip_grad), and resume from the last '
                'checkpoint.')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        model = unwrap_model(runner.model)
        bad = [
            name for name, p in model.named_parameters()
            if not bool(torch.isfinite(p.detach()).all())
        ]
        if bad:
            raise NonFiniteLossError(
                f'refusing to save a checkpoint at iteration {runner.iter}: '
                f'{len(bad)} model parameters hold NaN or inf (first: '
                f'{", ".join(bad[:3])}); {self._state(runner)}. Lower the '
                'learning rate and resume from the last checkpoint.')

    @staticmethod
    def _losses(outputs: Optional[dict]) -> Dict[str, float]:
        if not isinstance(outputs, dict):
            return {}
        losses = {}
        for key, value in outputs.items():
            if 'loss' not in key:
                continue
            value = torch.as_tensor(value).detach().float()
            if value.numel():
                # a non-finite element makes the sum non-finite
                losses[key] = float(value.sum())
        return losses

    @staticmethod
    def _state(runner) -> str:
        """The learning rate and the last checkpoint written."""
        lrs = sorted({
            lr
            for values in runner.optim_wrapper.get_lr().values()
            for lr in values
        })
        lr = f'{lrs[0]:.4g}' if len(lrs) == 1 else \
            f'{lrs[0]:.4g} to {lrs[-1]:.4g}'
        last = runner.message_hub.get_info('last_ckpt')
        return f'lr {lr}; last checkpoint written: {last or "none yet"}'
