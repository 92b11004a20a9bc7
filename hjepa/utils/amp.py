"""What ``--amp`` does to a config."""
from typing import Optional

import torch
from mmengine.config import Config
from mmengine.logging import print_log


def cpu_bf16_matmul_supported() -> bool:
    """Whether this CPU has bf16 matmul kernels (oneDNN's).

    oneDNN runs bf16 matmuls on x86 CPUs with AVX-512 (natively with
    AVX512-BF16 or AMX) and on Arm CPUs with the BF16 extension. Elsewhere
    (x86 with AVX2 only: AMD Zen 2 and Zen 3, Intel before Skylake-SP)
    PyTorch falls back to a reference kernel: on an AMD EPYC Zen 2, two
    threads, a 2048 x 2048 bf16 matmul ran at 0.3 GFLOP/s against 130 in
    fp32, so a bf16-autocast training step is hundreds of times slower.
    """
    check = getattr(torch.ops.mkldnn, '_is_mkldnn_bf16_supported', None)
    if check is None:  # a torch without the check: assume the kernels
        return True
    return bool(check())


def apply_amp(cfg: Config) -> Optional[str]:
    """Switch ``cfg.optim_wrapper`` to mixed precision for this machine.

    On a GPU: mmengine's ``AmpOptimWrapper`` in bfloat16 where supported
    (float16 with dynamic loss scaling otherwise). Without a GPU:
    :class:`AutocastOptimWrapper` in bfloat16, which needs no loss scaling,
    where the CPU has bf16 matmul kernels
    (:func:`cpu_bf16_matmul_supported`); on a CPU without them the config
    stays in fp32 and a warning says why (a config that sets
    ``optim_wrapper.type='AutocastOptimWrapper'`` itself still gets bf16).

    Returns:
        The mixed-precision dtype now in the config (``'bfloat16'`` or
        ``'float16'``), or None where training stays in fp32.
    """
    wrapper = cfg.optim_wrapper
    if wrapper.get('type') in ('AmpOptimWrapper', 'AutocastOptimWrapper'):
        print_log(
            '--amp: the config already uses mixed precision', logger='current')
        default = ('bfloat16'
                   if wrapper.type == 'AutocastOptimWrapper' else 'float16')
        return wrapper.get('dtype') or default
    if torch.cuda.is_available():
        wrapper.type = 'AmpOptimWrapper'
        wrapper.dtype = ('bfloat16'
                         if torch.cuda.is_bf16_supported() else 'float16')
        wrapper.loss_scale = 'dynamic'
        return wrapper.dtype
    if not cpu_bf16_matmul_supported():
        print_log(
            '--amp: this CPU has no bf16 matmul kernels (no AVX-512 or Arm '
            'BF16), where bf16 autocast runs matmuls hundreds of times '
            'slower than fp32; training stays in fp32. A config that sets '
            "optim_wrapper.type='AutocastOptimWrapper' gets bf16 anyway.",
            logger='current',
            level=30)
        return None
    wrapper.type = 'AutocastOptimWrapper'
    wrapper.dtype = 'bfloat16'
    return wrapper.dtype
