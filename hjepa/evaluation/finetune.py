"""End-to-end fine-tuning of an encoder with layer-wise lr decay."""
import copy
from typing import Dict

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseDataPreprocessor
from mmengine.optim import CosineAnnealingLR, LinearLR, build_optim_wrapper
from mmpretrain.models import (GlobalAveragePooling, ImageClassifier,
                               LinearClsHead)

from .features import batched_forward


def build_classifier(encoder: nn.Module, num_classes: int) -> ImageClassifier:
    """mmpretrain's ``ImageClassifier`` on a copy of an encoder.

    The encoder must return ``(B, C, H, W)`` maps (an :class:`HJEPAViT`
    built with ``out_type='featmap'``); a global average pool and a linear
    head follow.
    """
    return ImageClassifier(
        backbone=copy.deepcopy(encoder),
        data_preprocessor=BaseDataPreprocessor(),  # inputs come normalised
        neck=GlobalAveragePooling(),
        head=LinearClsHead(
            num_classes=num_classes,
            in_channels=encoder.embed_dims,
            loss=dict(type='mmpretrain.CrossEntropyLoss')))


def batch_augment(x: torch.Tensor,
                  gen: torch.Generator,
                  pad: int = 4) -> torch.Tensor:
    """Random crop after reflect padding, and random horizontal flip.

    Args:
        x: Images [B, C, H, W].
        gen: Random generator.
        pad: Padding on each side before cropping back to H x W.
    """
    B, _, H, W = x.shape
    padded = F.pad(x, (pad, ) * 4, mode='reflect')
    dy = torch.randint(0, 2 * pad + 1, (B, ), generator=gen)
    dx = torch.randint(0, 2 * pad + 1, (B, ), generator=gen)
    rows = (dy[:, None] + torch.arange(H))[:, None, :, None]  # [B,1,H,1]
    cols = (dx[:, None] + torch.arange(W))[:, None, None, :]  # [B,1,1,W]
    out = padded[torch.arange(B)[:, None, None, None],
                 torch.arange(x.shape[1])[None, :, None, None], rows, cols]
    flip = torch.rand(B, generator=gen) < 0.5
    out[flip] = out[flip].flip(-1)
    return out


def predict(model: ImageClassifier,
            images: torch.Tensor,
            batch_size: int = 512) -> torch.Tensor:
    """Predicted classes [N] of images [N, C, H, W]."""
    return batched_forward(
        model, images, lambda x: model.head(model.extract_feat(x)).argmax(1),
        batch_size)


def finetune(encoder: nn.Module,
             train_images: torch.Tensor,
             train_labels: torch.Tensor,
             test_images: torch.Tensor,
             test_labels: torch.Tensor,
             epochs: int = 2,
             batch_size: int = 128,
             lr: float = 1e-3,
             layer_decay: float = 0.65,
             weight_decay: float = 0.05,
             warmup_epochs: float = 0.5,
             label_smoothing: float = 0.1,
             amp: bool = False,
             seed: int = 0,
             logger=None) -> Dict[str, float]:
    """Fine-tune a classifier on ``encoder`` and score the test images.

    AdamW with layer-wise lr decay
    (:class:`~hjepa.engine.LayerDecayOptimWrapperConstructor`), linear
    warm-up then cosine decay per iteration, random crop and flip, label
    smoothing. The encoder itself is not changed (a copy is trained).

    Args:
        encoder: Feature-map encoder, see :func:`build_classifier`.
        train_images: Normalised images [N, C, H, W].
        train_labels: [N].
        test_images: [M, C, H, W].
        test_labels: [M].
        epochs: Passes over the training images.
        batch_size: Images per step.
        lr: Peak learning rate of the head; block ``i`` of ``L`` gets
            ``lr * layer_decay ** (L + 1 - (i + 1))``.
        layer_decay: Per-block lr factor.
        weight_decay: AdamW weight decay of matrices (none on 1-D params).
        warmup_epochs: Linear warm-up length.
        label_smoothing: Cross-entropy label smoothing.
        amp: bf16 autocast for the forward pass.
        seed: Shuffling and augmentation seed.
        logger: Optional logger for per-epoch progress.

    Returns:
        ``top1`` on the test images, ``train_loss`` of the last epoch and
        ``epochs``.
    """
    if epochs < 1:
        raise ValueError(f'fine-tuning epochs {epochs} must be >= 1')
    steps_per_epoch = len(train_images) // batch_size
    if steps_per_epoch < 1:
        raise ValueError(f'{len(train_images)} training images are fewer '
                         f'than one batch of {batch_size}')
    device = next(encoder.parameters()).device
    # every draw (head init, drop path, shuffling, augmentation) comes from
    # ``seed``; the caller's random state is left as it was
    with torch.random.fork_rng(
            devices=[device] if device.type == 'cuda' else []):
        torch.manual_seed(seed)
        num_classes = int(max(train_labels.max(), test_labels.max())) + 1
        model = build_classifier(encoder, num_classes).to(device)
        model.head.fc.weight.data.normal_(0, 0.01)
        model.head.fc.bias.data.zero_()
        wrapper = build_optim_wrapper(
            model,
            dict(
                type='AutocastOptimWrapper' if amp else 'OptimWrapper',
                optimizer=dict(
                    type='AdamW',
                    lr=lr,
                    weight_decay=weight_decay,
                    betas=(0.9, 0.999)),
                constructor='hjepa.LayerDecayOptimWrapperConstructor',
                paramwise_cfg=dict(
                    layer_decay_rate=layer_decay, flat_decay_mult=0.0)))
        total = epochs * steps_per_epoch
        warmup = min(total - 1, max(1, int(warmup_epochs * steps_per_epoch)))
        schedulers = [
            CosineAnnealingLR(
                wrapper,
                T_max=total - warmup,
                eta_min=lr * 1e-3,
                by_epoch=False,
                begin=warmup,
                end=total)
        ]
        if warmup > 0:  # none for a single step
            schedulers.insert(
                0,
                LinearLR(
                    wrapper,
                    start_factor=1e-3,
                    by_epoch=False,
                    begin=0,
                    end=warmup))
        gen = torch.Generator().manual_seed(seed)
        train_loss = float('nan')
        for epoch in range(epochs):
            model.train()
            order = torch.randperm(len(train_images), generator=gen)
            losses = []
            batches = order[:steps_per_epoch * batch_size].split(batch_size)
            for idx in batches:
                x = batch_augment(train_images[idx], gen).to(device)
                with wrapper.optim_context(model):
                    logits = model.head(model.extract_feat(x))
                loss = F.cross_entropy(
                    logits.float(),
                    train_labels[idx].to(device),
                    label_smoothing=label_smoothing)
                wrapper.update_params(loss)
                for s in schedulers:
                    s.step()
                losses.append(loss.item())
            train_loss = sum(losses) / len(losses)
            if logger is not None:
                logger.info(f'fine-tune epoch {epoch + 1}/{epochs}: '
                            f'loss {train_loss:.4f}')
        pred = predict(model, test_images).cpu()
        top1 = 100.0 * float((pred == test_labels).float().mean())
        return dict(top1=top1, train_loss=train_loss, epochs=epochs)
