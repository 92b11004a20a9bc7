"""The feature pyramid neck for detectors."""
import pytest
import torch
import torch.nn as nn

from hjepa.models.necks import SimpleFeaturePyramid
from hjepa.models.utils.norm import LayerNorm2d


def _shapes(outs):
    return [tuple(o.shape) for o in outs]


def test_vitdet_scales_from_a_stride16_map():
    neck = SimpleFeaturePyramid(192, 64, (4.0, 2.0, 1.0, 0.5), num_outs=5)
    outs = neck((torch.randn(2, 192, 8, 8), ))
    assert _shapes(outs) == [(2, 64, 32, 32), (2, 64, 16, 16), (2, 64, 8, 8),
                             (2, 64, 4, 4), (2, 64, 2, 2)]


def test_down_only_scales_from_a_stride4_map():
    neck = SimpleFeaturePyramid(192, 32, (1.0, 0.5, 0.25, 0.125), num_outs=5)
    outs = neck((torch.randn(1, 192, 16, 16), ))
    assert _shapes(outs) == [(1, 32, 16, 16), (1, 32, 8, 8), (1, 32, 4, 4),
                             (1, 32, 2, 2), (1, 32, 1, 1)]


def test_up_sampling_halves_channels_per_step():
    neck = SimpleFeaturePyramid(192, 32, (4.0, ), num_outs=1)
    deconvs = [
        m for m in neck.stages[0].modules()
        if isinstance(m, nn.ConvTranspose2d)
    ]
    assert [(m.in_channels, m.out_channels) for m in deconvs] == [(192, 96),
                                                                  (96, 48)]


def test_reads_only_the_chosen_backbone_output():
    neck = SimpleFeaturePyramid(8, 8, (1.0, 0.5), num_outs=2, in_index=0)
    x = torch.randn(1, 8, 4, 4)
    a = neck((x, torch.randn(1, 8, 4, 4)))
    b = neck((x, torch.randn(1, 8, 4, 4)))
    for u, v in zip(a, b):
        torch.testing.assert_close(u, v)


def test_gradients_reach_every_parameter():
    neck = SimpleFeaturePyramid(16, 8, (2.0, 1.0, 0.5), num_outs=4)
    sum(o.sum() for o in neck((torch.randn(2, 16, 4, 4), ))).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0
               for p in neck.parameters())


@pytest.mark.parametrize('kwargs, match', [
    (dict(scale_factors=(3.0, )), 'power of two'),
    (dict(scale_factors=(0, )), 'scale factor 0 must be a positive'),
    (dict(scale_factors=(1.0, -0.5)), 'scale factor -0.5 must be a positive'),
    (dict(scale_factors=(64.0, )), 'between 1/32 and 32'),
    (dict(scale_factors=(0.5, 1.0)), 'decreasing'),
    (dict(scale_factors=(1.0, 0.5), num_outs=1), 'num_outs'),
])
def test_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SimpleFeaturePyramid(16, 8, **kwargs)


def test_layer_norm_2d_normalises_channels_at_each_position():
    norm = LayerNorm2d(6)
    with torch.no_grad():
        norm.weight.uniform_()
        norm.bias.uniform_()
    x = torch.randn(2, 6, 3, 5)
    expected = nn.functional.layer_norm(
        x.permute(0, 2, 3, 1), (6, ), norm.weight, norm.bias,
        norm.eps).permute(0, 3, 1, 2)
    torch.testing.assert_close(norm(x), expected)
