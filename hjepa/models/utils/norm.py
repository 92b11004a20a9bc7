"""Normalisation layers for channel-first feature maps."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of each position of a [B, C, H, W] map.

    ViTDet's choice for the layers that follow a ViT: unlike BatchNorm it
    needs no batch statistics, so it behaves the same at batch 1 and on one
    GPU as on many.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)  # [B, H, W, C]
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias,
                         self.eps)
        return x.permute(0, 3, 1, 2)  # [B, C, H, W]
