"""Colour jitter for a whole batch at once."""
from typing import Sequence

import torch
import torch.nn as nn

from hjepa.registry import MODELS

_LUMA = (0.299, 0.587, 0.114)


@MODELS.register_module()
class BatchColorJitter(nn.Module):
    """Random brightness, contrast, saturation and grayscale per image.

    Works on normalised images [B, 3, H, W]: they are mapped back to the
    0-255 scale with ``mean`` and ``std``, jittered, clamped and normalised
    again. ``HJEPA(context_augment=...)`` applies it to the context
    encoder's input only, so the predictor cannot read the targets' colours
    off the context and the encoders learn colour-invariant features (on
    32 px images colour statistics are otherwise the easiest thing to
    predict).

    Args:
        brightness: Factors drawn from ``[1 - b, 1 + b]``.
        contrast: Factors drawn from ``[1 - c, 1 + c]``.
        saturation: Factors drawn from ``[1 - s, 1 + s]``.
        grayscale_prob: Probability of turning an image gray.
        prob: Probability of jittering an image at all.
        mean: Per-channel mean of the normalisation, 0-255 scale.
        std: Per-channel std of the normalisation, 0-255 scale.
    """

    def __init__(
        self,
        brightness: float = 0.4,
        contrast: float = 0.4,
        saturation: float = 0.4,
        grayscale_prob: float = 0.2,
        prob: float = 0.8,
        mean: Sequence[float] = (123.675, 116.28, 103.53),
        std: Sequence[float] = (58.395, 57.12, 57.375)
    ) -> None:
        super().__init__()
        for name, value in (('brightness', brightness), ('contrast', contrast),
                            ('saturation', saturation)):
            if not 0 <= value < 1:
                raise ValueError(f'{name} {value} must be in [0, 1)')
        for name, value in (('grayscale_prob', grayscale_prob), ('prob',
                                                                 prob)):
            if not 0 <= value <= 1:
                raise ValueError(f'{name} {value} must be in [0, 1]')
        self.brightness = brightness
        self.contrast = contrast
        self.saturation = saturation
        self.grayscale_prob = grayscale_prob
        self.prob = prob
        self.register_buffer('mean',
                             torch.tensor(mean).view(1, -1, 1, 1), False)
        self.register_buffer('std', torch.tensor(std).view(1, -1, 1, 1), False)
        self.register_buffer('luma',
                             torch.tensor(_LUMA).view(1, 3, 1, 1), False)

    def _factor(self, spread: float, n: int,
                gen: torch.Generator) -> torch.Tensor:
        u = torch.rand(n, generator=gen)
        return (1 - spread + 2 * spread * u).view(n, 1, 1, 1)

    def forward(self, x: torch.Tensor,
                generator: torch.Generator) -> torch.Tensor:
        """Jitter normalised images [B, 3, H, W] with ``generator``."""
        B = x.shape[0]
        raw = x.float() * self.std + self.mean  # [B, 3, H, W], 0-255
        b = self._factor(self.brightness, B, generator)
        c = self._factor(self.contrast, B, generator)
        s = self._factor(self.saturation, B, generator)
        gray_pick = torch.rand(B, generator=generator) < self.grayscale_prob
        apply = torch.rand(B, generator=generator) < self.prob
        out = raw * b.to(raw)
        gray = (out * self.luma).sum(1, keepdim=True)  # [B, 1, H, W]
        out = (out - gray.mean((2, 3), keepdim=True)) * c.to(raw) + \
            gray.mean((2, 3), keepdim=True)
        gray = (out * self.luma).sum(1, keepdim=True)
        out = (out - gray) * s.to(raw) + gray
        gray = (out * self.luma).sum(1, keepdim=True)
        out = torch.where(
            gray_pick.view(B, 1, 1, 1).to(x.device), gray.expand_as(out),
            out).clamp(0, 255)
        out = torch.where(apply.view(B, 1, 1, 1).to(x.device), out, raw)
        return ((out - self.mean) / self.std).to(x.dtype)
