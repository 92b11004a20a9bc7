"""ViTDet's simple feature pyramid: four scales from one ViT feature map."""
import math
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from hjepa.registry import MODELS
from ..utils.norm import LayerNorm2d


def _resample(in_channels: int, scale: float) -> Tuple[nn.Module, int]:
    """Layers that resize a map by ``scale`` (a power of two), and their width.

    Up-sampling is a chain of stride-2 transposed convolutions that halve the
    channels, with LayerNorm and GELU between them (ViTDet); down-sampling is
    max pooling.
    """
    if not scale > 0:  # before log2, which fails on it without the value
        raise ValueError(f'scale factor {scale} must be a positive power of '
                         'two between 1/32 and 32, e.g. 4, 2, 1, 0.5')
    steps = math.log2(scale)
    if steps != round(steps) or abs(steps) > 5:
        raise ValueError(f'scale factor {scale} must be a power of two '
                         'between 1/32 and 32, e.g. 4, 2, 1, 0.5')
    steps = int(round(steps))
    if steps <= 0:
        kernel = 2**-steps
        pool = nn.MaxPool2d(kernel, kernel) if kernel > 1 else nn.Identity()
        return pool, in_channels
    layers: List[nn.Module] = []
    channels = in_channels
    for i in range(steps):
        if i > 0:
            layers += [LayerNorm2d(channels, eps=1e-6), nn.GELU()]
        if channels % 2:
            raise ValueError(f'cannot up-sample {in_channels} channels by '
                             f'{scale}: {channels} is odd')
        layers.append(nn.ConvTranspose2d(channels, channels // 2, 2, 2))
        channels //= 2
    return nn.Sequential(*layers), channels


@MODELS.register_module()
class SimpleFeaturePyramid(BaseModule):
    """Multi-scale maps for a detector from a single ViT feature map.

    ViTDet (Li et al., 2022): the last map of a plain ViT (stride ``s``, the
    patch size) is resized by each of ``scale_factors`` (giving strides
    ``s / f``), then projected to ``out_channels`` by a 1x1 and a 3x3
    convolution, each followed by a channel LayerNorm. Extra outputs beyond
    ``len(scale_factors)`` max-pool the coarsest one by 2 (the ``P6`` an RPN
    uses), so ``num_outs=5`` with factors ``(4, 2, 1, 0.5)`` on a stride-16
    ViT gives strides 4, 8, 16, 32 and 64, like an FPN on a ResNet.

    Args:
        in_channels: Channels of the backbone map (the ViT's width).
        out_channels: Channels of every output.
        scale_factors: Resize factors, powers of two, finest first.
        num_outs: Outputs in all, at least ``len(scale_factors)``.
        in_index: Which of the backbone's outputs to use.
        init_cfg: mmengine initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int = 256,
                 scale_factors: Sequence[float] = (4.0, 2.0, 1.0, 0.5),
                 num_outs: int = 5,
                 in_index: int = -1,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if list(scale_factors) != sorted(scale_factors, reverse=True):
            raise ValueError(f'scale_factors {tuple(scale_factors)} must be '
                             'in decreasing order (finest map first)')
        if num_outs < len(scale_factors):
            raise ValueError(f'num_outs {num_outs} must be at least the '
                             f'{len(scale_factors)} scale factors')
        self.scale_factors = tuple(scale_factors)
        self.num_outs = num_outs
        self.in_index = in_index
        self.stages = nn.ModuleList()
        for scale in self.scale_factors:
            resample, channels = _resample(in_channels, scale)
            self.stages.append(
                nn.Sequential(
                    resample, nn.Conv2d(channels, out_channels, 1, bias=False),
                    LayerNorm2d(out_channels, eps=1e-6),
                    nn.Conv2d(
                        out_channels, out_channels, 3, padding=1, bias=False),
                    LayerNorm2d(out_channels, eps=1e-6)))

    def forward(self, inputs: Sequence[torch.Tensor]) -> Tuple[torch.Tensor]:
        """Build the pyramid.

        Args:
            inputs: Backbone outputs; ``inputs[in_index]`` is [B, C, h, w].

        Returns:
            ``num_outs`` maps [B, out_channels, h * f, w * f], one per scale
            factor ``f``, then the extra max-pooled ones, finest first.
        """
        x = inputs[self.in_index]
        outs = [stage(x) for stage in self.stages]
        while len(outs) < self.num_outs:
            outs.append(F.max_pool2d(outs[-1], 1, stride=2))
        return tuple(outs)
