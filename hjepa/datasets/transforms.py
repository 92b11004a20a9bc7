"""Per-sample transforms for datasets read from disk (ImageNet and such)."""
import math
import random
from typing import Optional, Tuple

import numpy as np
import torch
from PIL import Image

from hjepa.registry import TRANSFORMS
from .image_folder import read_rgb

_STREAMS = {}


def transform_rng() -> random.Random:
    """The generator a random transform draws from when given none: never
    the global ``random`` (which any library may draw from or reseed).

    In a DataLoader worker: one stream per worker seeded from the worker's
    seed (``get_worker_info().seed``, which the loader derives from the
    run's seeded torch generator: one per worker and per epoch, so epochs
    do not repeat their crops). In the main process (``num_workers=0``): a
    stream seeded by a draw from torch's generator, which the runner seeded
    from ``randomness.seed``. One seed thus fixes every draw of a run.
    """
    info = torch.utils.data.get_worker_info()
    if info is None:
        return random.Random(int(torch.randint(2**62, ())))
    rng = _STREAMS.get(info.seed)
    if rng is None:
        _STREAMS.clear()  # this worker's previous epoch is over
        rng = _STREAMS[info.seed] = random.Random(info.seed)
    return rng


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
        rng: Generator to draw from; None: :func:`transform_rng`.
    """

    def __init__(self,
                 size: int,
                 scale: Tuple[float, float] = (0.3, 1.0),
                 ratio: Tuple[float, float] = (3 / 4, 4 / 3),
                 rng: Optional[random.Random] = None) -> None:
        if not 0 < scale[0] <= scale[1] <= 1:
            raise ValueError(f'crop scale {scale} must satisfy '
                             '0 < min <= max <= 1')
        self.size = size
        self.scale = scale
        self.log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        self.rng = rng

    def _params(self, h: int, w: int) -> Tuple[int, int, int, int]:
        rng = self.rng or transform_rng()
        for _ in range(10):
            area = h * w * rng.uniform(*self.scale)
            r = math.exp(rng.uniform(*self.log_ratio))
            cw = int(round(math.sqrt(area * r)))
            ch = int(round(math.sqrt(area / r)))
            if 0 < cw <= w and 0 < ch <= h:
                return rng.randint(0, h - ch), rng.randint(0, w - cw), ch, cw
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
    """Horizontal flip with probability ``prob``, drawn from ``rng`` (None:
    :func:`transform_rng`)."""

    def __init__(self,
                 prob: float = 0.5,
                 rng: Optional[random.Random] = None) -> None:
        self.prob = prob
        self.rng = rng

    def __call__(self, results: dict) -> dict:
        if (self.rng or transform_rng()).random() < self.prob:
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
