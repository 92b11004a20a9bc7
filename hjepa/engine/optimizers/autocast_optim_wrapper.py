"""Mixed precision by autocast alone, for CPUs (and bf16 anywhere)."""
from contextlib import contextmanager

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper

from hjepa.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """Runs the forward pass under ``torch.autocast``, without loss scaling.

    mmengine's ``AmpOptimWrapper`` needs a GPU; bfloat16 needs no loss
    scaling, so on a CPU (with AVX-512-BF16 or AMX) this wrapper gives mixed
    precision with the plain optimizer step. ``tools/train.py --amp`` picks
    it when no GPU is present and the CPU has bf16 matmul kernels; used on
    a CPU without them it warns once, since its matmuls then run on a
    reference kernel hundreds of times slower than fp32.

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
        self._warned = False

    @contextmanager
    def optim_context(self, model: nn.Module):
        device = next(model.parameters()).device.type
        if (device == 'cpu' and self.cast_dtype == torch.bfloat16
                and not self._warned):
            from hjepa.utils.amp import cpu_bf16_matmul_supported
            self._warned = True
            if not cpu_bf16_matmul_supported():
                print_log(
                    'AutocastOptimWrapper: this CPU has no bf16 matmul '
                    'kernels (no AVX-512 or Arm BF16); bf16 matmuls run '
                    'hundreds of times slower than fp32 here',
                    logger='current',
                    level=30)
        with super().optim_context(model), torch.autocast(
                device_type=device, dtype=self.cast_dtype):
            yield
