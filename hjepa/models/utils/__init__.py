from .layers import (Attention, DropPath, Mlp, TransformerBlock, gather_tokens,
                     init_vit_weights)
from .pooling import window_ids, window_pool
from .pos_embed import sincos_1d, sincos_2d
from .seeding import step_generator

__all__ = [
    'Attention', 'DropPath', 'Mlp', 'TransformerBlock', 'gather_tokens',
    'init_vit_weights', 'window_ids', 'window_pool', 'sincos_1d', 'sincos_2d',
    'step_generator'
]
