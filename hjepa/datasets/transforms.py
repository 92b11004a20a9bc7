"""Per-sample transforms for datasets read from disk (ImageNet and such)."""
import math
import random
from typing import Tuple

import numpy as np
import torch
from PIL import Image

from hjepa.registry import TRANSFORMS
from .image_folder import read_rgb


@TRANSFORMS.register_module()
class LoadImageRGB:
    """Reads ``results['img_path']`` into ``results['img']`` (RGB uint8)."""

    def __call__(self, results: dict) -> dict:
        results['img'] = read_rgb(results['img_path'])
        return results


@TRANSFORMS.register_module()
class JEPARandomResizedCrop:
    """Random crop of a random area and aspect ratio, resized to ``size``.

    Args:
        size: Output side.
        scale: Range of the crop's area over the image's (I-JEPA: 0.3-1).
        ratio: Range of the crop's width over height.
    """

    def __init__(
        self,
        size: int,
        scale: Tuple[float, float] = (0.3, 1.0),
        ratio: Tuple[float, float] = (3 / 4, 4 / 3)
    ) -> None:
        if not 0 < scale[0] <= scale[1] <= 1:
            raise ValueError(f'crop scale {scale} must satisfy '
                             '0 < min <= max <= 1')
        self.size = size
        self.scale = scale
        self.log_ratio = (math.log(ratio[0]), math.log(ratio[1]))

    def _params(self, h: int, w: int) -> Tuple[int, int, int, int]:
        for _ in range(10):
            area = h * w * random.uniform(*self.scale)
            r = math.exp(random.uniform(*self.log_ratio))
            cw = int(round(math.sqrt(area * r)))
            ch = int(round(math.sqrt(area / r)))
            if 0 < cw <= w and 0 < ch <= h:
                return (random.randint(0,
                                       h - ch), random.randint(0,
                                                               w - cw), ch, cw)
        side = min(h, w)  # fall back to the central square
        return (h - side) // 2, (w - side) // 2, side, side

    def __call__(self, results: dict) -> dict:
        img = results['img']
        top, left, ch, cw = self._params(*img.shape[:2])
        crop = Image.fromarray(img[top:top + ch, left:left + cw])
        results['img'] = np.asarray(
            crop.resize((self.size, self.size), Image.BICUBIC))
        return results


@TRANSFORMS.register_module()
class JEPAResizeCenterCrop:
    """Resize the short side to ``size / crop_pct`` and crop the centre."""

    def __init__(self, size: int, crop_pct: float = 0.875) -> None:
        self.size = size
        self.resize = int(round(size / crop_pct))

    def __call__(self, results: dict) -> dict:
        img = Image.fromarray(results['img'])
        w, h = img.size
        s = self.resize / min(w, h)
        img = img.resize(
            (max(self.size, round(w * s)), max(self.size, round(h * s))),
            Image.BICUBIC)
        w, h = img.size
        left, top = (w - self.size) // 2, (h - self.size) // 2
        results['img'] = np.asarray(
            img.crop((left, top, left + self.size, top + self.size)))
        return results


@TRANSFORMS.register_module()
class JEPARandomFlip:
    """Horizontal flip with probability ``prob``."""

    def __init__(self, prob: float = 0.5) -> None:
        self.prob = prob

    def __call__(self, results: dict) -> dict:
        if random.random() < self.prob:
            results['img'] = np.ascontiguousarray(results['img'][:, ::-1])
        return results


@TRANSFORMS.register_module()
class PackJEPAInputs:
    """Packs ``img`` and ``gt_label`` as the preprocessor expects them."""

    def __call__(self, results: dict) -> dict:
        img = torch.from_numpy(np.ascontiguousarray(results['img']))
        return dict(
            inputs=img.permute(2, 0, 1).contiguous(),
            data_samples=torch.tensor(results.get('gt_label', -1)))
