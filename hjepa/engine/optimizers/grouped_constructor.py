"""An optimizer with as few parameter groups as its hyperparameters allow."""
from typing import List

import torch.nn as nn
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
        super().add_params(singles, module, prefix, **kwargs)
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
