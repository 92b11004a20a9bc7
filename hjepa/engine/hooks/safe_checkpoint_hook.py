"""Checkpoints that load with ``torch.load(weights_only=True)``.

mmengine's ``HistoryBuffer`` pickles its statistics methods through
``builtins.getattr``, which safe loading must not allow; the hook saves the
buffers as :class:`~hjepa.utils.checkpoint.MethodFreeHistoryBuffer`, one of
the types :mod:`hjepa.utils.checkpoint` allows (see there). It also records
the state dict's layout version, ``meta['hjepa_format']``, which the loaders
use to migrate older checkpoints.
"""
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer

from hjepa.registry import HOOKS
from hjepa.utils.checkpoint import (  # noqa: F401 (the allow-list, here too)
    CHECKPOINT_FORMAT, SAFE_CHECKPOINT_GLOBALS, MethodFreeHistoryBuffer)


@HOOKS.register_module()
class SafeCheckpointHook(Hook):
    """Makes every saved checkpoint loadable with ``weights_only=True`` and
    records its layout version."""

    priority = 'VERY_LOW'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint.setdefault('meta', {})['hjepa_format'] = CHECKPOINT_FORMAT
        scalars = checkpoint.get('message_hub', {}).get('log_scalars', {})
        for key, buffer in scalars.items():
            if isinstance(buffer, HistoryBuffer) and not isinstance(
                    buffer, MethodFreeHistoryBuffer):
                safe = MethodFreeHistoryBuffer.__new__(MethodFreeHistoryBuffer)
                safe.__dict__.update(buffer.__dict__)
                safe.__dict__.pop('statistics_methods', None)
                scalars[key] = safe
