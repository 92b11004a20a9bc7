"""Layer-wise lr decay through the backbone's get_layer_depth."""
import pytest
import torch.nn as nn
from mmengine.optim import build_optim_wrapper

from hjepa.models.backbones import HJEPAViT


def _vit():
    return HJEPAViT(
        arch=dict(name='tiny', num_layers=3), img_size=32, patch_size=4)


class _Detector(nn.Module):
    """Like an mmdet detector: no get_layer_depth of its own."""

    def __init__(self, backbone):
        super().__init__()
        self.backbone = backbone
        self.neck = nn.Linear(192, 8)


def _groups(model, rate=0.5):
    wrapper = build_optim_wrapper(
        model,
        dict(
            optimizer=dict(type='AdamW', lr=1.0, weight_decay=0.05),
            constructor='hjepa.LayerDecayOptimWrapperConstructor',
            paramwise_cfg=dict(layer_decay_rate=rate, flat_decay_mult=0.)))
    return {g['param_name']: g for g in wrapper.optimizer.param_groups}


def test_depths_of_vit_parameters():
    vit = _vit()
    assert vit.get_layer_depth('backbone.patch_embed.weight',
                               'backbone.') == (0, 5)
    assert vit.get_layer_depth('backbone.blocks.2.attn.qkv.weight',
                               'backbone.') == (3, 5)
    assert vit.get_layer_depth('backbone.norm.weight', 'backbone.') == (4, 5)
    assert vit.get_layer_depth('neck.weight', 'backbone.') == (4, 5)


def test_lr_decays_geometrically_from_the_head():
    groups = _groups(_Detector(_vit()), rate=0.5)
    assert groups['neck.weight']['lr'] == 1.0
    assert groups['backbone.norm.weight']['lr'] == 1.0
    assert groups['backbone.blocks.2.mlp.fc1.weight']['lr'] == 0.5
    assert groups['backbone.blocks.0.mlp.fc1.weight']['lr'] == 0.125
    assert groups['backbone.patch_embed.weight']['lr'] == 0.0625
    # 1-D parameters get no weight decay, matrices keep it
    assert groups['backbone.blocks.0.norm1.weight']['weight_decay'] == 0.0
    assert groups['backbone.blocks.0.mlp.fc1.weight']['weight_decay'] == 0.05


def test_model_without_depths_is_refused():
    with pytest.raises(TypeError, match='get_layer_depth'):
        _groups(nn.Sequential(nn.Linear(2, 2)))
