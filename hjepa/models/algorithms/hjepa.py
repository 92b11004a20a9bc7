"""H-JEPA: I-JEPA's latent prediction at several granularities."""
import copy
from typing import Dict, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModel

from hjepa.registry import MODELS
from ..utils.layers import gather_tokens
from ..utils.pooling import window_pool
from ..utils.seeding import CONTEXT_AUGMENT_STREAM, MASK_STREAM, step_generator


def _build(cfg_or_module, **defaults):
    """Build a config dict with ``defaults`` filled in, or pass a module."""
    if isinstance(cfg_or_module, dict):
        cfg = dict(cfg_or_module)
        for key, value in defaults.items():
            cfg.setdefault(key, value)
        return MODELS.build(cfg)
    return cfg_or_module


@MODELS.register_module()
class HJEPA(BaseModel):
    """Hierarchical Joint-Embedding Predictive Architecture.

    A context encoder sees the context patches; a predictor predicts the
    representations that an EMA target encoder gives the target blocks.
    Level 0 compares them patch by patch (I-JEPA). Level ``l > 0`` averages
    predictions and targets over the target patches inside each
    ``2**l x 2**l`` window of the patch grid, passes the pooled predictions
    through that level's projection head, and compares them with the
    pooled (re-normalised) targets. ``num_levels=1`` is exactly I-JEPA.

    The target encoder is updated by :class:`TargetEncoderEMAHook` after
    every optimizer step, through :meth:`update_target_encoder`.

    Args:
        backbone: Context encoder (config or module); the target encoder is
            a copy of it.
        predictor: Predictor head; ``in_dims`` and ``grid_size`` default to
            the backbone's.
        masker: Mask sampler with ``sample(batch_size, grid_size, gen)``.
        neck: Per-level projection heads; ``in_dims`` and ``num_levels``
            default to the backbone's width and ``num_levels``.
        loss: Latent loss, e.g. ``SmoothL1LatentLoss``.
        num_levels: Hierarchy levels, level 0 included.
        level_weights: Loss weight of each level.
        target_norm: Layer-normalise target tokens (and pooled targets).
        context_augment: Optional batch augmentation (e.g.
            ``BatchColorJitter``) applied to the context encoder's input
            only; the target encoder sees the image as it is. None (the
            default, and I-JEPA) gives both the same image. Its ``mean``
            and ``std`` default to the data preprocessor's.
        seed: Seed of the mask draws, combined with rank and step.
        data_preprocessor: Batch preprocessor config.
        init_cfg: mmengine initialisation config.
    """

    def __init__(self,
                 backbone: Union[dict, nn.Module],
                 predictor: Union[dict, nn.Module],
                 masker: Union[dict, object],
                 neck: Optional[Union[dict, nn.Module]] = None,
                 loss: Union[dict,
                             nn.Module] = dict(type='SmoothL1LatentLoss'),
                 num_levels: int = 3,
                 level_weights: Sequence[float] = (1.0, 0.5, 0.25),
                 target_norm: bool = True,
                 context_augment: Optional[Union[dict, nn.Module]] = None,
                 seed: int = 0,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='HJEPADataPreprocessor')
        super().__init__(
            data_preprocessor=_build(data_preprocessor), init_cfg=init_cfg)
        if num_levels < 1:
            raise ValueError(f'num_levels {num_levels} must be >= 1')
        if len(level_weights) != num_levels:
            raise ValueError(f'level_weights {tuple(level_weights)} must have '
                             f'one weight per level ({num_levels})')
        self.num_levels = num_levels
        self.level_weights = tuple(float(w) for w in level_weights)
        self.target_norm = target_norm
        self.seed = seed

        self.backbone = _build(backbone)
        dims = self.backbone.embed_dims
        self.target_encoder = copy.deepcopy(self.backbone)
        self.target_encoder.requires_grad_(False)
        self.predictor = _build(
            predictor, in_dims=dims, grid_size=self.backbone.grid_size)
        self.neck = _build(
            neck if neck is not None else dict(type='LevelProjectionNeck'),
            in_dims=dims,
            num_levels=num_levels)
        if getattr(self.neck, 'num_levels', num_levels) < num_levels:
            raise ValueError(f'the neck has heads for {self.neck.num_levels} '
                             f'levels, the model num_levels={num_levels}')
        self.masker = _build(masker)
        self.context_augment = None
        if context_augment is not None:
            pre = self.data_preprocessor
            norm = dict(
                mean=pre.mean.flatten().tolist(),
                std=pre.std.flatten().tolist()) if hasattr(pre,
                                                           'mean') else {}
            self.context_augment = _build(context_augment, **norm)
        self.loss_module = _build(loss)
        self.register_buffer('num_steps', torch.zeros((), dtype=torch.long))
        self.generator = torch.Generator()

    def init_weights(self) -> None:
        super().init_weights()
        self.target_encoder.load_state_dict(self.backbone.state_dict())

    def train(self, mode: bool = True) -> 'HJEPA':
        super().train(mode)
        self.target_encoder.eval()  # never drop paths in the targets
        return self

    @torch.no_grad()
    def update_target_encoder(self, momentum: float) -> None:
        """target <- momentum * target + (1 - momentum) * context."""
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f'EMA momentum {momentum} must be in [0, 1]')
        target = list(self.target_encoder.parameters())
        source = list(self.backbone.parameters())
        torch._foreach_mul_(target, momentum)
        torch._foreach_add_(target, source, alpha=1.0 - momentum)

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[torch.Tensor] = None,
                mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs)
        if mode in ('tensor', 'predict'):
            return self.extract_feat(inputs)
        raise ValueError(f"mode {mode!r} must be 'loss', 'tensor' or "
                         "'predict'")

    @torch.no_grad()
    def extract_feat(self,
                     inputs: torch.Tensor,
                     encoder: str = 'target') -> torch.Tensor:
        """Average-pooled last-layer tokens [B, D] of one encoder."""
        if encoder not in ('target', 'context'):
            raise ValueError(
                f"encoder {encoder!r} must be 'target' or 'context'")
        net = self.target_encoder if encoder == 'target' else self.backbone
        return net(inputs)[-1].mean(1)

    def loss(self, inputs: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Sample masks, predict the target blocks, and score each level.

        Args:
            inputs: Normalised images [B, C, H, W].

        Returns:
            ``loss_level{l}`` for every level, already weighted.
        """
        B = inputs.shape[0]
        p = self.backbone.patch_size
        grid = (inputs.shape[-2] // p, inputs.shape[-1] // p)
        step = int(self.num_steps)
        self.num_steps += 1
        gen = step_generator(self.generator, self.seed, step, MASK_STREAM)
        masks = self.masker.sample(B, grid, gen)
        ctx_idx = masks['context'].to(inputs.device)  # [B, N_ctx]
        tgt_idx = masks['targets'].to(inputs.device)  # [B, M, N_tgt]
        _, M, n_tgt = tgt_idx.shape

        with torch.no_grad():
            h = self.target_encoder(inputs)[-1].float()  # [B, N, D]
            if self.target_norm:
                h = F.layer_norm(h, h.shape[-1:])
            target = gather_tokens(h, tgt_idx.flatten(1))
            target = target.view(B * M, n_tgt, -1)  # [B*M, N_tgt, D]

        context_inputs = inputs
        if self.context_augment is not None:
            context_inputs = self.context_augment(
                inputs,
                step_generator(self.generator, self.seed, step,
                               CONTEXT_AUGMENT_STREAM))
        context = self.backbone(context_inputs, ctx_idx)[-1]  # [B, N_ctx, D]
        pred = self.predictor(context, ctx_idx, tgt_idx, grid).float()
        flat_idx = tgt_idx.flatten(0, 1)  # [B*M, N_tgt]

        losses = {}
        for level, weight in enumerate(self.level_weights):
            p_l, valid = window_pool(pred, flat_idx, grid, level)
            with torch.no_grad():
                t_l, _ = window_pool(target, flat_idx, grid, level)
                if level > 0 and self.target_norm:
                    t_l = F.layer_norm(t_l, t_l.shape[-1:])
            p_l = self.neck(p_l, level)
            losses[f'loss_level{level}'] = weight * self.loss_module(
                p_l, t_l, valid)
        return losses
