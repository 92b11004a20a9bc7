"""Checkpoints that load with ``torch.load(weights_only=True)``.

Since torch 2.6 ``torch.load`` unpickles only allow-listed types. mmengine
0.10 checkpoints hold its ``HistoryBuffer`` (log history), whose pickled
state carries its statistics methods, pickled through ``builtins.getattr``:
allowing ``getattr`` would let a crafted file reach arbitrary attributes.
So :class:`SafeCheckpointHook` saves the buffers without those methods
(they are the defaults, restored on load), and importing this module
allows exactly the remaining types: ``HistoryBuffer`` (and the subclass
that saves it) and the numpy array and scalar constructors.
"""
import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer

from hjepa.registry import HOOKS


class MethodFreeHistoryBuffer(HistoryBuffer):
    """A ``HistoryBuffer`` that pickles its data but not its methods."""

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop('statistics_methods', None)
        return state


def _numpy_globals() -> list:
    try:  # numpy >= 2
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy 1.x
        from numpy.core.multiarray import _reconstruct, scalar
    return [_reconstruct, scalar, np.ndarray, np.dtype] + [
        type(np.dtype(t)) for t in (np.float64, np.float32, np.int64, np.int32,
                                    np.bool_)
    ]


SAFE_CHECKPOINT_GLOBALS = [HistoryBuffer, MethodFreeHistoryBuffer
                           ] + _numpy_globals()
if hasattr(torch.serialization, 'add_safe_globals'):  # torch >= 2.4
    torch.serialization.add_safe_globals(SAFE_CHECKPOINT_GLOBALS)


@HOOKS.register_module()
class SafeCheckpointHook(Hook):
    """Makes every saved checkpoint loadable with ``weights_only=True``."""

    priority = 'VERY_LOW'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        scalars = checkpoint.get('message_hub', {}).get('log_scalars', {})
        for key, buffer in scalars.items():
            if isinstance(buffer, HistoryBuffer) and not isinstance(
                    buffer, MethodFreeHistoryBuffer):
                safe = MethodFreeHistoryBuffer.__new__(MethodFreeHistoryBuffer)
                safe.__dict__.update(buffer.__dict__)
                safe.__dict__.pop('statistics_methods', None)
                scalars[key] = safe
