"""Batch preparation: stacking, batched crop-and-flip, normalisation."""
from typing import Callable, Optional, Sequence

import torch
from mmengine.model import BaseDataPreprocessor

from hjepa.registry import MODELS
from ..utils.crops import crop_options, crop_resize, sample_crop_boxes
from ..utils.seeding import AUGMENT_STREAM, step_generator


@MODELS.register_module()
class HJEPADataPreprocessor(BaseDataPreprocessor):
    """Turns a collated batch into normalised float images and labels.

    Accepts ``inputs`` as a uint8 (or float) tensor [B, C, H, W] or a list
    of [C, H, W] tensors, and ``data_samples`` as a tensor of labels, a list
    of ints, or None. In training it can apply random-resized-crop and
    horizontal flip to the whole batch at once (one ``grid_sample``): cheap
    enough that small in-memory datasets such as CIFAR need no loader
    workers. Its draws depend on ``(seed, rank, step)`` only; the step is
    the owning model's training-step counter (``step_source``, which
    :class:`HJEPA` sets), the one counter of a run.

    Args:
        mean: Per-channel mean, on the 0-255 scale.
        std: Per-channel standard deviation, on the 0-255 scale.
        batch_augment: None, or a dict with ``crop_scale`` (area range),
            ``crop_ratio`` (aspect range) and ``flip_prob``.
        seed: Seed of the augmentation draws. None (the default): the
            owning model's (HJEPA sets it), the run's one seed.
    """

    def __init__(self,
                 mean: Sequence[float] = (123.675, 116.28, 103.53),
                 std: Sequence[float] = (58.395, 57.12, 57.375),
                 batch_augment: Optional[dict] = None,
                 seed: Optional[int] = None) -> None:
        super().__init__()
        self.register_buffer('mean', torch.tensor(mean).view(-1, 1, 1), False)
        self.register_buffer('std', torch.tensor(std).view(-1, 1, 1), False)
        self.seed = seed
        #: () -> the current training step; set by the model that owns this
        #: preprocessor (it keeps the one step counter, saved and resumed)
        self.step_source: Optional[Callable[[], int]] = None
        self.generator = torch.Generator()
        self.batch_augment = None
        if batch_augment is not None:
            aug = crop_options(
                dict(
                    crop_scale=(0.3, 1.0),
                    crop_ratio=(3 / 4, 4 / 3),
                    flip_prob=0.5), batch_augment, 'batch_augment')
            lo, hi = aug['crop_scale']
            if not 0 < lo <= hi <= 1:
                raise ValueError(f"crop_scale {aug['crop_scale']} must satisfy"
                                 ' 0 < min <= max <= 1')
            r_lo, r_hi = aug['crop_ratio']
            if not 0 < r_lo <= r_hi:
                raise ValueError(f"crop_ratio {aug['crop_ratio']} must satisfy"
                                 ' 0 < min <= max')
            self.batch_augment = aug

    def forward(self, data: dict, training: bool = False) -> dict:
        inputs = data['inputs']
        if isinstance(inputs, (list, tuple)):
            inputs = torch.stack(list(inputs))
        labels = data.get('data_samples')
        if labels is not None and not isinstance(labels, torch.Tensor):
            labels = torch.as_tensor(labels)
        inputs, labels = self.cast_data((inputs, labels))
        x = inputs.float()  # [B, C, H, W]
        if training and self.batch_augment is not None:
            if self.step_source is None or self.seed is None:
                raise RuntimeError(
                    'batch_augment draws per training step from a seed: '
                    'set step_source and seed, the owning model\'s step '
                    'counter and seed (HJEPA sets both)')
            gen = step_generator(self.generator, self.seed,
                                 int(self.step_source()), AUGMENT_STREAM)
            x = self._crop_and_flip(x, gen)
        x = (x - self.mean) / self.std
        return dict(inputs=x, data_samples=labels)

    def _crop_and_flip(self, x: torch.Tensor,
                       gen: torch.Generator) -> torch.Tensor:
        """Random-resized-crop and flip every image, as one resampling."""
        aug = self.batch_augment
        boxes = sample_crop_boxes(x.shape[0], aug['crop_scale'],
                                  aug['crop_ratio'], gen)
        flip = torch.rand(x.shape[0], generator=gen) < aug['flip_prob']
        return crop_resize(x, boxes, x.shape[-2:], flip)
