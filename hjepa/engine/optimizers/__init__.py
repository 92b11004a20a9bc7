from .autocast_optim_wrapper import AutocastOptimWrapper
from .grouped_constructor import GroupedOptimWrapperConstructor
from .layer_decay_constructor import LayerDecayOptimWrapperConstructor

__all__ = [
    'AutocastOptimWrapper', 'GroupedOptimWrapperConstructor',
    'LayerDecayOptimWrapperConstructor'
]
