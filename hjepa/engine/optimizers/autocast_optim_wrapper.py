"""Mixed precision by autocast alone, for CPUs (and bf16 anywhere)."""
from contextlib import contextmanager

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper

from hjepa.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """Runs the forward pass under ``torch.autocast``, without loss scaling.

    mmengine's ``AmpOptimWrapper`` needs a GPU; bfloat16 needs no loss
    scaling, so on a CPU (with AVX-512-BF16 or AMX) this wrapper gives mixed
    precision with the plain optimizer step. ``tools/train.py --amp`` picks
    it when no GPU is present.

    Args:
        dtype: ``'bfloat16'`` (or ``'float16'`` where the device supports
            it without scaling).
        **kwargs: Passed to :class:`mmengine.optim.OptimWrapper`.
    """

    def __init__(self, dtype: str = 'bfloat16', **kwargs) -> None:
        super().__init__(**kwargs)
        if dtype not in ('bfloat16', 'float16'):
            raise ValueError(
                f"autocast dtype {dtype!r} must be 'bfloat16' or 'float16'")
        self.cast_dtype = getattr(torch, dtype)

    @contextmanager
    def optim_context(self, model: nn.Module):
        device = next(model.parameters()).device.type
        with super().optim_context(model), torch.autocast(
                device_type=device, dtype=self.cast_dtype):
            yield
