"""Tests of the example projects under ``projects/``."""
import os.path as osp
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.utils import import_modules_from_strings

from hjepa.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:  # `projects.` imports resolve from the root
    sys.path.insert(0, ROOT)

from projects.multi_layer_pyramid.multi_layer_pyramid import \
    MultiLayerFeaturePyramid  # noqa: E402
from projects.random_token_masker.random_token_masker import \
    RandomTokenMasker  # noqa: E402

RANDOM_TOKEN_CFG = osp.join(
    ROOT, 'projects/random_token_masker/configs/'
    'hjepa_vit-tiny-p4_random-token-mask_smoke_cifar10.py')


def test_random_token_masker_masks():
    masker = RandomTokenMasker(
        num_targets=4, target_ratio=0.15, context_ratio=0.5)
    masks = masker.sample(3, (8, 8), torch.Generator().manual_seed(1))
    ctx, tgt = masks['context'], masks['targets']
    assert ctx.shape == (3, 32) and tgt.shape == (3, 4, 10)
    assert ctx.dtype == tgt.dtype == torch.long
    assert ctx.min() >= 0 and ctx.max() < 64
    assert tgt.min() >= 0 and tgt.max() < 64
    assert (ctx.diff(dim=1) > 0).all() and (tgt.diff(dim=2) > 0).all()
    for b in range(3):
        assert not set(ctx[b].tolist()) & set(tgt[b].flatten().tolist())

    again = masker.sample(3, (8, 8), torch.Generator().manual_seed(1))
    assert torch.equal(again['context'], ctx)
    assert torch.equal(again['targets'], tgt)


@pytest.mark.parametrize('kwargs', [
    dict(target_ratio=0.0),
    dict(context_ratio=1.0),
    dict(target_ratio=0.6, context_ratio=0.5),
    dict(num_targets=0),
])
def test_random_token_masker_rejects_bad_args(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        RandomTokenMasker(**kwargs)


def test_random_token_masker_config_builds_and_trains():
    cfg = Config.fromfile(RANDOM_TOKEN_CFG)
    assert ('projects.random_token_masker.random_token_masker'
            in cfg.custom_imports['imports'])
    import_modules_from_strings(**cfg.custom_imports)

    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    assert isinstance(model.masker, RandomTokenMasker)
    model.train()
    losses = model.loss(torch.randn(4, 3, 32, 32))
    assert losses and all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    grads = [p.grad for p in model.backbone.parameters() if p.requires_grad]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)


def test_multi_layer_pyramid_resizes_each_output():
    neck = MultiLayerFeaturePyramid(16, 8, (2.0, 1.0, 0.5), num_outs=4)
    outs = neck([torch.randn(2, 16, 4, 4) for _ in range(3)])
    assert [tuple(o.shape) for o in outs] == [(2, 8, 8, 8), (2, 8, 4, 4),
                                              (2, 8, 2, 2), (2, 8, 1, 1)]


@pytest.mark.parametrize('kwargs, match', [
    (dict(scale_factors=(1.0, 0)), 'scale factor 0 must be a positive power'),
    (dict(scale_factors=(1.0, 0.3)), 'scale factor 0.3 must be a positive'),
    (dict(scale_factors=(3.0, )), 'scale factor 3.0 must be a positive'),
    (dict(scale_factors=(0.5, 1.0)), 'decreasing'),
    (dict(scale_factors=(1.0, 0.5), num_outs=1), 'num_outs'),
])
def test_multi_layer_pyramid_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MultiLayerFeaturePyramid(16, 8, **kwargs)
