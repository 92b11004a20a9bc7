"""An optimizer with as few parameter groups as its hyperparameters allow."""
import logging
from typing import List

import torch.nn as nn
from mmengine.logging import MMLogger, print_log
from mmengine.optim import DefaultOptimWrapperConstructor

from hjepa.registry import OPTIM_WRAPPER_CONSTRUCTORS


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class GroupedOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """mmengine's default constructor, with its groups merged.

    With a ``paramwise_cfg`` (no decay on norms and biases, say) mmengine
    gives every parameter a group of its own, frozen ones included. A
    multi-tensor or fused optimizer step then runs once per tensor. This
    constructor applies the same ``paramwise_cfg`` and then merges the
    groups whose hyperparameters are equal, so I-JEPA's recipe gives two
    groups (decay, no decay), and leaves out parameters that do not
    require gradients (the EMA target encoder). Every parameter keeps the
    learning rate and weight decay the default constructor gives it.

    mmengine warns once per frozen tensor (``... is skipped since its
    requires_grad=False``: some 80 lines for the CPU default's target
    encoder, wherever a model's optimizer is built: training, the
    throughput benchmark, the ablation runner's timing); here one INFO
    line counts them instead, so the warnings a user should read are not
    buried.
    """

    def add_params(self,
                   params: List[dict],
                   module: nn.Module,
                   prefix: str = '',
                   **kwargs) -> None:
        if prefix:
            super().add_params(params, module, prefix, **kwargs)
            return
        singles: List[dict] = []
        logger = MMLogger.get_current_instance()
        skipped = _FrozenSkipFilter()
        logger.addFilter(skipped)
        try:
            super().add_params(singles, module, prefix, **kwargs)
        finally:
            logger.removeFilter(skipped)
        if skipped.count:
            print_log(
                f'{skipped.count} parameter tensors that do not require '
                'gradients (e.g. the EMA target encoder) are left out of '
                'the optimizer',
                logger='current',
                level=logging.INFO)
        merged = {}
        for group in singles:
            kept = [p for p in group['params'] if p.requires_grad]
            if not kept:
                continue
            key = tuple(
                sorted(
                    (k, repr(v)) for k, v in group.items() if k != 'params'))
            if key not in merged:
                merged[key] = dict(group, params=[])
                params.append(merged[key])
            merged[key]['params'].extend(kept)


class _FrozenSkipFilter(logging.Filter):
    """Drops mmengine's per-tensor "requires_grad=False" warnings and
    counts them."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if 'is skipped since its requires_grad=False' in record.getMessage():
            self.count += 1
            return False
        return True
