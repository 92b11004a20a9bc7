"""Layer-wise learning-rate decay for any model with an H-JEPA ViT in it."""
from functools import partial
from typing import List

import torch.nn as nn
from mmpretrain.engine.optimizers import \
    LearningRateDecayOptimWrapperConstructor

from hjepa.registry import OPTIM_WRAPPER_CONSTRUCTORS


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class LayerDecayOptimWrapperConstructor(
        LearningRateDecayOptimWrapperConstructor):
    """mmpretrain's layer-decay constructor, for detectors and segmentors too.

    mmpretrain's constructor asks the model itself for ``get_layer_depth``,
    which its classifiers have and mmdet detectors and mmseg segmentors do
    not. This one falls back to ``model.backbone.get_layer_depth`` with the
    ``'backbone.'`` prefix, so the same ``paramwise_cfg`` works in
    mmpretrain, mmdet and mmseg configs::

        optim_wrapper = dict(
            type='OptimWrapper',
            optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.05),
            constructor='hjepa.LayerDecayOptimWrapperConstructor',
            paramwise_cfg=dict(layer_decay_rate=0.65, flat_decay_mult=0.))

    A parameter at depth ``d`` of ``n`` gets ``lr * rate ** (n - 1 - d)``:
    the head and necks the full rate, the patch embedding the smallest.
    """

    def add_params(self,
                   params: List[dict],
                   module: nn.Module,
                   prefix: str = '',
                   get_layer_depth=None,
                   **kwargs) -> None:
        if get_layer_depth is None and prefix == '':
            get_layer_depth = self._layer_depth_fn(module)
        super().add_params(params, module, prefix, get_layer_depth, **kwargs)

    @staticmethod
    def _layer_depth_fn(model: nn.Module):
        if hasattr(model, 'get_layer_depth'):
            return model.get_layer_depth
        backbone = getattr(model, 'backbone', None)
        if backbone is not None and hasattr(backbone, 'get_layer_depth'):
            return partial(backbone.get_layer_depth, prefix='backbone.')
        raise TypeError(
            f'layer-wise lr decay needs {type(model).__name__} or its '
            f'backbone ({type(backbone).__name__}) to define '
            'get_layer_depth(param_name, prefix)')
