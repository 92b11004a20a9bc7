"""What ``--amp`` does to a config."""
import torch
from mmengine.config import Config
from mmengine.logging import print_log


def apply_amp(cfg: Config) -> None:
    """Switch ``cfg.optim_wrapper`` to mixed precision for this machine.

    On a GPU: mmengine's ``AmpOptimWrapper`` in bfloat16 where supported
    (float16 with dynamic loss scaling otherwise). Without a GPU:
    :class:`AutocastOptimWrapper` in bfloat16, which needs no loss scaling.
    """
    wrapper = cfg.optim_wrapper
    if wrapper.get('type') in ('AmpOptimWrapper', 'AutocastOptimWrapper'):
        print_log(
            '--amp: the config already uses mixed precision', logger='current')
        return
    if torch.cuda.is_available():
        wrapper.type = 'AmpOptimWrapper'
        wrapper.dtype = ('bfloat16'
                         if torch.cuda.is_bf16_supported() else 'float16')
        wrapper.loss_scale = 'dynamic'
    else:
        wrapper.type = 'AutocastOptimWrapper'
        wrapper.dtype = 'bfloat16'
