"""A feature pyramid that takes each scale from a different ViT block."""
import math
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from hjepa.models.utils.norm import LayerNorm2d
from hjepa.registry import MODELS


@MODELS.register_module()
class MultiLayerFeaturePyramid(BaseModule):
    """Pyramid level ``i`` from backbone output ``i``, resized, projected.

    Where ``SimpleFeaturePyramid`` (ViTDet) builds every scale from the last
    block's map with learned up-sampling, this one takes the finer scales
    from earlier blocks (as BEiT and MAE segmentation heads do) and resizes
    them without parameters: bilinear up-sampling, max-pool down-sampling.
    Each level then gets a 1x1 projection and a channel LayerNorm. Extra
    outputs max-pool the coarsest level by 2.

    Args:
        in_channels: Channels of every backbone output (the ViT's width).
        out_channels: Channels of every pyramid level.
        scale_factors: Resize factor of each backbone output, powers of two,
            finest first.
        num_outs: Outputs in all, at least ``len(scale_factors)``.
        init_cfg: mmengine initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int = 256,
                 scale_factors: Sequence[float] = (4.0, 2.0, 1.0, 0.5),
                 num_outs: int = 5,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        # max-pooling needs a whole 1 / scale; a detector, strides in powers
        # of 2
        for scale in scale_factors:
            if not (scale > 0 and math.log2(scale).is_integer()):
                raise ValueError(f'scale factor {scale} must be a positive '
                                 'power of two, e.g. 4, 2, 1, 0.5')
        if list(scale_factors) != sorted(scale_factors, reverse=True):
            raise ValueError(f'scale_factors {tuple(scale_factors)} must be '
                             'in decreasing order (finest level first)')
        if num_outs < len(scale_factors):
            raise ValueError(f'num_outs {num_outs} must be at least the '
                             f'{len(scale_factors)} scale factors')
        self.scale_factors = tuple(float(s) for s in scale_factors)
        self.num_outs = num_outs
        self.projections = nn.ModuleList([
            nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, bias=False),
                LayerNorm2d(out_channels, eps=1e-6))
            for _ in self.scale_factors
        ])

    def forward(self, inputs: Sequence[torch.Tensor]) -> Tuple[torch.Tensor]:
        """Build the pyramid.

        Args:
            inputs: One [B, C, h, w] map per scale factor.

        Returns:
            ``num_outs`` maps [B, out_channels, h * f, w * f], finest first.
        """
        if len(inputs) != len(self.scale_factors):
            raise ValueError(f'got {len(inputs)} backbone outputs, expected '
                             f'one per scale factor {self.scale_factors}')
        outs = []
        for x, scale, project in zip(inputs, self.scale_factors,
                                     self.projections):
            if scale > 1:
                x = F.interpolate(
                    x,
                    scale_factor=scale,
                    mode='bilinear',
                    align_corners=False)
            elif scale < 1:
                kernel = int(round(1 / scale))
                x = F.max_pool2d(x, kernel, kernel)
            outs.append(project(x))
        while len(outs) < self.num_outs:
            outs.append(F.max_pool2d(outs[-1], 1, stride=2))
        return tuple(outs)
