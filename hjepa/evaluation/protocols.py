"""Evaluation protocols: registered, configurable, run on an EvalSubject.

A protocol is called as ``protocol(subject, data, logger=None)`` with one
:class:`EvalSubject` (the pretrained encoder, a randomly initialised one, or
raw pixels) and the shared :class:`EvalData`, and returns flat metrics
``{name: float}`` (empty when it does not apply to the subject).
:class:`ProtocolTestLoop` runs every configured protocol on every subject.
"""
from dataclasses import dataclass
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn

from hjepa.registry import MODELS, PROTOCOLS
from .feature_quality import (alignment, feature_statistics, level_statistics,
                              uniformity)
from .features import batched_forward
from .few_shot import episodes_infeasible, few_shot_accuracy
from .finetune import batch_augment, finetune
from .knn import knn_accuracy
from .linear_probe import linear_probe


@dataclass
class EvalData:
    """Labels of the bank (train) and test splits, and their normalised
    images where a protocol needs them (``needs_images``)."""
    train_labels: torch.Tensor  # [N]
    test_labels: torch.Tensor  # [M]
    train_images: Optional[torch.Tensor] = None  # [N, C, H, W]
    test_images: Optional[torch.Tensor] = None  # [M, C, H, W]

    def images(self, protocol: str) -> Tuple[torch.Tensor, torch.Tensor]:
        """Both splits' images; a clear error where they were not loaded."""
        if self.train_images is None or self.test_images is None:
            raise ValueError(f'{protocol} needs the images of both splits; '
                             'the test loop loads them when the protocol '
                             'declares needs_images = True')
        return self.train_images, self.test_images


@dataclass
class EvalSubject:
    """What is evaluated: an encoder (or none, for raw pixels) and its
    cached features.

    Attributes:
        name: ``'model'`` (the loaded checkpoint), ``'random_init'`` or
            ``'raw_pixels'``.
        features: ``{pooling: (train [N, D], test [M, D])}``; poolings are
            ``'avg'`` (average of the last layer's tokens) and ``'cat4'``
            (averages of the last four layers, or of all of them in a
            shallower encoder, concatenated).
        encoder: Token encoder returning one [B, N, D] tensor per output
            layer (last one last), or None for raw pixels.
        encoder_cfg: Config that rebuilds ``encoder`` (for fine-tuning).
    """
    name: str
    features: Dict[str, Tuple[torch.Tensor, torch.Tensor]]
    encoder: Optional[nn.Module] = None
    encoder_cfg: Optional[dict] = None

    def get(self, pooling: str) -> Tuple[torch.Tensor, torch.Tensor]:
        if pooling not in self.features:
            raise KeyError(f'{self.name} has no {pooling!r} features; it '
                           f'has {sorted(self.features)}')
        return self.features[pooling]

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Average-pooled last-layer features [B, D] of new images."""
        if self.encoder is None:
            return images.flatten(1)
        return batched_forward(self.encoder, images,
                               lambda x: self.encoder(x)[-1].mean(1))


POOLINGS = ('avg', 'cat4')


def _prefixed(prefix: str, metrics: Dict[str, float]) -> Dict[str, float]:
    return {f'{prefix}/{k}': v for k, v in metrics.items()}


@PROTOCOLS.register_module()
class KNNProtocol:
    """Weighted cosine k-NN of test features against the bank.

    Args:
        ks: Neighbour counts.
        temperature: Vote temperature.
        pooling: Which cached features.
    """

    def __init__(self,
                 ks: Sequence[int] = (10, 20, 200),
                 temperature: float = 0.07,
                 pooling: str = 'avg') -> None:
        self.ks, self.temperature, self.pooling = tuple(ks), temperature, \
            pooling

    def __call__(self, subject: EvalSubject, data: EvalData, logger=None):
        train_x, test_x = subject.get(self.pooling)
        return knn_accuracy(train_x, data.train_labels, test_x,
                            data.test_labels, self.ks, self.temperature)


@PROTOCOLS.register_module()
class LinearProbeProtocol:
    """Linear classifier on standardised frozen features, per pooling.

    Args:
        poolings: Feature poolings to probe (each gets its own numbers).
        lrs: Learning rates swept on a held-out ``val_fraction`` of the
            training split.
        **kwargs: Recipe of :func:`linear_probe` (epochs, batch_size,
            weight_decay, val_fraction, seed).
    """

    def __init__(self,
                 poolings: Sequence[str] = ('avg', 'cat4'),
                 lrs: Sequence[float] = (1e-3, 3e-3, 1e-2),
                 **kwargs) -> None:
        bad = [p for p in poolings if p not in POOLINGS]
        if bad:
            raise ValueError(f'poolings {bad} must be among {POOLINGS}')
        self.poolings, self.lrs, self.kwargs = tuple(poolings), tuple(lrs), \
            kwargs

    def __call__(self, subject: EvalSubject, data: EvalData, logger=None):
        out = {}
        for pooling in self.poolings:
            if subject.encoder is None and pooling != 'avg':
                continue  # raw pixels have a single 'avg' (the pixels)
            train_x, test_x = subject.get(pooling)
            out.update(
                _prefixed(
                    pooling,
                    linear_probe(train_x, data.train_labels, test_x,
                                 data.test_labels, self.lrs, **self.kwargs)))
        return out


@PROTOCOLS.register_module()
class FewShotProtocol:
    """N-way K-shot episodes on the test split's frozen features.

    Args:
        settings: ``(n_way, k_shot)`` pairs.
        episodes: Episodes per setting.
        n_query: Queries per class and episode.
        classifier: ``'prototype'`` or ``'logistic'``.
        pooling: Which cached features.
        seed: Episode seed.
    """

    def __init__(self,
                 settings: Sequence[Tuple[int,
                                          int]] = ((5, 1), (5, 5), (10, 10)),
                 episodes: int = 600,
                 n_query: int = 15,
                 classifier: str = 'prototype',
                 pooling: str = 'avg',
                 seed: int = 0) -> None:
        self.settings = [tuple(s) for s in settings]
        self.episodes, self.n_query = episodes, n_query
        self.classifier, self.pooling, self.seed = classifier, pooling, seed

    def __call__(self, subject: EvalSubject, data: EvalData, logger=None):
        _, test_x = subject.get(self.pooling)
        out = {}
        for n_way, k_shot in self.settings:
            why = episodes_infeasible(data.test_labels, n_way, k_shot,
                                      self.n_query)
            if why:
                if logger is not None:
                    logger.warning(
                        f'few-shot {n_way}-way {k_shot}-shot skipped: {why}')
                continue
            out.update(
                _prefixed(
                    f'{n_way}way{k_shot}shot',
                    few_shot_accuracy(test_x, data.test_labels, n_way, k_shot,
                                      self.n_query, self.episodes,
                                      self.classifier, self.seed)))
        return out


@PROTOCOLS.register_module()
class FeatureQualityProtocol:
    """Effective rank, spread, alignment/uniformity and per-level statistics.

    Image-level statistics use the average-pooled test features. Level
    ``l`` statistics pool the last layer's tokens over ``2**l x 2**l``
    windows of the patch grid (the granularities H-JEPA predicts) and treat
    every window of ``num_samples`` test images as a sample. Alignment and
    uniformity compare two random crop-and-flip views of the same images.

    Args:
        num_samples: Test images used (evenly spaced over the split).
        num_levels: Levels of per-level statistics.
        seed: Seed of the two views.
    """

    def __init__(self,
                 num_samples: int = 2000,
                 num_levels: int = 3,
                 seed: int = 0) -> None:
        self.num_samples, self.num_levels, self.seed = num_samples, \
            num_levels, seed

    needs_images = True  # re-encodes augmented views

    def __call__(self, subject: EvalSubject, data: EvalData, logger=None):
        _, test_x = subject.get('avg')
        out = _prefixed('image', feature_statistics(test_x))
        _, test_images = data.images(type(self).__name__)
        n = min(self.num_samples, len(test_images))
        pick = torch.linspace(0, len(test_images) - 1, n).long()
        images = test_images[pick]
        gen = torch.Generator().manual_seed(self.seed)
        view1 = subject.encode(batch_augment(images, gen))
        view2 = subject.encode(batch_augment(images, gen))
        out['alignment'] = alignment(view1, view2)
        out['uniformity'] = uniformity(view1)
        encoder = subject.encoder
        if encoder is not None:
            tokens = batched_forward(encoder, images,
                                     lambda x: encoder(x)[-1])  # [n, N, D]
            p = encoder.patch_size
            grid = (images.shape[-2] // p, images.shape[-1] // p)
            for level, stats in level_statistics(tokens, grid,
                                                 self.num_levels).items():
                out.update(_prefixed(level, stats))
        return out


@PROTOCOLS.register_module()
class FineTuneProtocol:
    """Fine-tune the whole encoder with layer-wise lr decay, score the test
    split. Raw pixels are skipped (no encoder).

    Args:
        drop_path_rate: Stochastic depth of the fine-tuned encoder.
        max_train_samples: Train on the first ... of an even spread of the
            training split (None: all of it), to fit a time budget.
        **kwargs: Recipe of :func:`finetune` (epochs, batch_size, lr,
            layer_decay, weight_decay, warmup_epochs, label_smoothing, amp,
            seed).
    """

    needs_images = True  # trains on them

    def __init__(self,
                 drop_path_rate: float = 0.1,
                 max_train_samples: Optional[int] = None,
                 **kwargs) -> None:
        self.drop_path_rate = drop_path_rate
        self.max_train_samples = max_train_samples
        self.kwargs = kwargs

    def __call__(self, subject: EvalSubject, data: EvalData, logger=None):
        if subject.encoder is None:
            return {}
        cfg = dict(
            subject.encoder_cfg,
            out_type='featmap',
            out_indices=-1,
            drop_path_rate=self.drop_path_rate,
            init_cfg=None)
        encoder = MODELS.build(cfg).to(
            next(subject.encoder.parameters()).device)
        missing, unexpected = encoder.load_state_dict(
            subject.encoder.state_dict(), strict=False)
        if missing or unexpected:
            raise RuntimeError(f'fine-tuning encoder does not match the '
                               f'evaluated one: missing {missing}, '
                               f'unexpected {unexpected}')
        images, test_images = data.images(type(self).__name__)
        labels = data.train_labels
        if self.max_train_samples and self.max_train_samples < len(images):
            pick = torch.linspace(0,
                                  len(images) - 1,
                                  self.max_train_samples).long()
            images, labels = images[pick], labels[pick]
        return finetune(
            encoder,
            images,
            labels,
            test_images,
            data.test_labels,
            logger=logger,
            **self.kwargs)
