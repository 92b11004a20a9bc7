"""Random resized crops of a whole batch, as one resampling."""
import math
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F


def crop_options(defaults: dict, given: dict, name: str) -> dict:
    """``defaults`` updated by ``given``, refusing keys it does not have
    (the crop settings of ``HJEPA(multi_crop=...)`` and
    ``HJEPADataPreprocessor(batch_augment=...)``)."""
    unknown = set(given) - set(defaults)
    if unknown:
        raise ValueError(f'unknown {name} keys {sorted(unknown)}; expected '
                         f'{sorted(defaults)}')
    return {**defaults, **given}


def sample_crop_boxes(
    n: int,
    scale: Sequence[float],
    ratio: Sequence[float],
    gen: torch.Generator,
    tries: int = 10
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Crop boxes like torchvision's ``RandomResizedCrop``, for ``n`` images.

    Args:
        n: Images.
        scale: Range of the crop's area, as a fraction of the image's.
        ratio: Range of the crop's width / height.
        gen: Random generator.
        tries: Draws per image before falling back to the whole image.

    Returns:
        Width, height, centre x and centre y [n] each, as fractions of the
        image's side.
    """
    lo, hi = scale
    r_lo, r_hi = (math.log(r) for r in ratio)
    area = lo + torch.rand(n, tries, generator=gen) * (hi - lo)
    aspect = torch.exp(r_lo + torch.rand(n, tries, generator=gen) *
                       (r_hi - r_lo))
    w = torch.sqrt(area * aspect)
    h = torch.sqrt(area / aspect)
    ok = (w <= 1) & (h <= 1)
    first = ok.float().argmax(1, keepdim=True)  # first fitting try
    w = w.gather(1, first).squeeze(1)
    h = h.gather(1, first).squeeze(1)
    none = ~ok.any(1)  # fall back to the whole image
    w, h = w.masked_fill(none, 1.0), h.masked_fill(none, 1.0)
    cx = w / 2 + torch.rand(n, generator=gen) * (1 - w)
    cy = h / 2 + torch.rand(n, generator=gen) * (1 - h)
    return w, h, cx, cy


def crop_resize(x: torch.Tensor,
                boxes: Tuple[torch.Tensor, ...],
                size: Tuple[int, int],
                flip: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Cut every image's box out and resize it, bilinearly.

    Args:
        x: Images [B, C, H, W].
        boxes: ``(w, h, cx, cy)`` [B] each, fractions of the side (see
            :func:`sample_crop_boxes`).
        size: ``(H_out, W_out)``.
        flip: Optional bool [B]: mirror those crops horizontally.

    Returns:
        Crops [B, C, H_out, W_out].
    """
    w, h, cx, cy = boxes
    B = x.shape[0]
    sign = 1.0 - 2.0 * flip.float() if flip is not None else torch.ones(B)
    theta = torch.zeros(B, 2, 3)
    theta[:, 0, 0] = w * sign
    theta[:, 0, 2] = 2 * cx - 1
    theta[:, 1, 1] = h
    theta[:, 1, 2] = 2 * cy - 1
    grid = F.affine_grid(
        theta.to(x), [B, x.shape[1], *size], align_corners=False)
    return F.grid_sample(
        x, grid, mode='bilinear', padding_mode='border', align_corners=False)
