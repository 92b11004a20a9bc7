"""H-JEPA: I-JEPA's latent prediction at several granularities."""
import copy
from typing import Dict, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModel

from hjepa.registry import MODELS
from ..utils.checks import is_int
from ..utils.crops import crop_options, crop_resize, sample_crop_boxes
from ..utils.seeding import (CONTEXT_AUGMENT_STREAM, CROP_STREAM, MASK_STREAM,
                             QUERY_STREAM, REG_STREAM, SET_STRIDE,
                             step_generator)


def _build(cfg_or_module, **defaults):
    """Build a config dict with ``defaults`` filled in, or pass a module."""
    if isinstance(cfg_or_module, dict):
        cfg = dict(cfg_or_module)
        for key, value in defaults.items():
            cfg.setdefault(key, value)
        return MODELS.build(cfg)
    return cfg_or_module


def _migrate_keys(state_dict, prefix, *args) -> None:
    from hjepa.utils.checkpoint import migrate_state_dict
    migrate_state_dict(state_dict, prefix)


_MOVED_TO_HEAD = ('neck', 'loss', 'num_levels', 'level_weights', 'target_norm')


@MODELS.register_module()
class HJEPA(BaseModel):
    """Hierarchical Joint-Embedding Predictive Architecture.

    Wiring only: a context encoder (``backbone``) sees the context patches
    that the ``masker`` leaves visible; an EMA copy of it, the target
    encoder, sees the whole image and gives the targets; the ``predictor``
    predicts, from the context, the target blocks' tokens and the query
    tokens of the ``head``'s coarse levels; the ``head`` builds every
    level's targets from the target encoder's tokens and scores the
    predictions (:class:`HierarchicalLatentHead`). A head with one patch
    level is exactly I-JEPA.

    The target encoder is updated by :class:`TargetEncoderEMAHook` after
    every optimizer step, through :meth:`update_target_encoder`.

    Args:
        backbone: Context encoder (config or module); the target encoder is
            a copy of it.
        predictor: Predictor; ``in_dims`` and ``grid_size`` default to the
            backbone's.
        masker: Mask sampler with ``sample(batch_size, grid_size, gen)``.
        head: Hierarchical head; ``in_dims`` and ``pred_dims`` default to
            the backbone's and the predictor's widths.
        query_predictor: A predictor of its own for the head's query
            (region) levels, of the predictor's width: the query tokens are
            predicted from the same context in a sequence
            ``[ctx | queries]`` of this predictor, and the target blocks by
            ``predictor`` alone, so the coarse tasks share the context
            encoder but not the predictor's weights. None (the default):
            one predictor for both, in one sequence. Needs region levels.
        context_augment: Optional batch augmentation (e.g.
            ``BatchColorJitter``) applied to the context encoder's input
            only; the target encoder sees the image as it is. None (the
            default, and I-JEPA) gives both the same image. Its ``mean``
            and ``std`` default to the data preprocessor's.
        multi_crop: Extra small context crops (the seed's multi-crop), each
            encoded whole by the context encoder and asked, through the
            whole-image query token, for the whole image's representation
            (the head's ``region`` level with ``grid=1``): ``dict(
            num_crops=2, size=16, scale=(0.1, 0.4), ratio=(3/4, 4/3),
            weight=1.0)``; crops see the context augmentation too (the
            last mask set's, with ``mask_sets`` > 1). None: no crops.
        seed: The run's one seed for what the model draws (masks, crops,
            context and batch augmentation), combined with stream, rank
            and step. None (the default): the seed mmengine's runner set
            from ``randomness.seed`` before building the model
            (``torch.initial_seed()``), so that one setting seeds the
            whole run. The data preprocessor draws from it too.
        compile: ``torch.compile`` every transformer block of both encoders
            and the predictor (True, or a dict of ``torch.compile``
            arguments). Blocks are where a small ViT's time goes outside
            the matmuls (norms, GELU, residuals, casts), their shapes vary
            only in the token count, and state-dict keys stay as they are.
            ``tools/train.py --compile`` sets it.
        data_preprocessor: Batch preprocessor config.
        init_cfg: mmengine initialisation config.
    """

    def __init__(self,
                 backbone: Union[dict, nn.Module],
                 predictor: Union[dict, nn.Module],
                 masker: Union[dict, object],
                 head: Optional[Union[dict, nn.Module]] = None,
                 query_predictor: Optional[Union[dict, nn.Module]] = None,
                 context_augment: Optional[Union[dict, nn.Module]] = None,
                 multi_crop: Optional[dict] = None,
                 mask_sets: int = 1,
                 seed: Optional[int] = None,
                 compile: Union[bool, dict] = False,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 **moved) -> None:
        if moved:
            unknown = sorted(set(moved) - set(_MOVED_TO_HEAD))
            if unknown:
                raise TypeError(f'HJEPA got unexpected arguments {unknown}')
            raise ValueError(
                f'HJEPA arguments {sorted(moved)} moved into the head: write '
                "head=dict(type='HierarchicalLatentHead', levels=[...], "
                'level_weights=[...], loss=..., target_norm=...) (see '
                'configs/_base_/models/hjepa_vit-tiny-p4.py; the old '
                "window pooling is levels=[dict(kind='patch'), "
                "dict(kind='window', side=2), ...])")
        if data_preprocessor is None:
            data_preprocessor = dict(type='HJEPADataPreprocessor')
        super().__init__(
            data_preprocessor=_build(data_preprocessor), init_cfg=init_cfg)
        self.seed = torch.initial_seed() if seed is None else int(seed)

        self.backbone = _build(backbone)
        dims = self.backbone.embed_dims
        self.target_encoder = copy.deepcopy(self.backbone)
        self.target_encoder.requires_grad_(False)
        self.predictor = _build(
            predictor, in_dims=dims, grid_size=self.backbone.grid_size)
        self.head = _build(
            head if head is not None else dict(type='HierarchicalLatentHead'),
            in_dims=dims,
            pred_dims=self.predictor.embed_dims)
        self.head.check_grid(self.backbone.grid_size)
        self.head.set_depths(self.target_encoder.num_layers,
                             len(self.predictor.blocks))
        if self.head.target_layers > self.target_encoder.num_layers:
            raise ValueError(
                f'the head averages the last {self.head.target_layers} '
                f'blocks; the encoder has {self.target_encoder.num_layers}')
        self.query_predictor = None
        if query_predictor is not None:
            self.query_predictor = _build(
                query_predictor,
                in_dims=dims,
                grid_size=self.backbone.grid_size)
            width = self.query_predictor.embed_dims
            if width != self.predictor.embed_dims:
                raise ValueError(
                    f'query_predictor embed_dims {width} must equal the '
                    f"predictor's {self.predictor.embed_dims} (the head's "
                    'query tokens have its width)')
            if not self.head.region_levels:
                raise ValueError(
                    'query_predictor needs region levels in the head to '
                    f'predict; its levels are {self.head.level_names()}')
        if getattr(self.predictor, 'multiway', False):
            # the query weights would never be used (and DDP without
            # find_unused_parameters stops on parameters without gradients)
            if not self.head.region_levels:
                raise ValueError(
                    'predictor multiway=True gives the query tokens of the '
                    'region levels weights of their own; the head has no '
                    f'region levels (levels {self.head.level_names()}): set '
                    'model.predictor.multiway=False (as configs/ijepa/ do)')
            if self.query_predictor is not None:
                raise ValueError(
                    'predictor multiway=True and a query_predictor: the '
                    'query tokens go to the query_predictor, so the '
                    "predictor's query weights would never be used; set one")
        self.masker = _build(masker)
        self.context_augment = None
        if context_augment is not None:
            pre = self.data_preprocessor
            norm = dict(
                mean=pre.mean.flatten().tolist(),
                std=pre.std.flatten().tolist()) if hasattr(pre,
                                                           'mean') else {}
            self.context_augment = _build(context_augment, **norm)
        self.multi_crop = self._check_multi_crop(multi_crop)
        if not self.head.needs_prediction and self.multi_crop is None:
            # nothing reads the predictor (regulariser or image levels
            # only): no gradient would reach it, which DDP refuses
            self.predictor.requires_grad_(False)
            self.head.freeze_unread()
        if not is_int(mask_sets) or mask_sets < 1:
            raise ValueError(
                f'mask_sets {mask_sets!r} must be an integer >= 1')
        self.mask_sets = int(mask_sets)
        # the run's one training-step counter (saved, so a resumed run
        # draws what the uninterrupted one drew); the data preprocessor's
        # batch augmentation reads it too
        self.register_buffer('num_steps', torch.zeros((), dtype=torch.long))
        if hasattr(self.data_preprocessor, 'step_source'):
            self.data_preprocessor.step_source = self.current_step
            self._share_seed(self.data_preprocessor)
        self.generator = torch.Generator()
        # checkpoints of earlier layouts load through a key migration
        self._register_load_state_dict_pre_hook(_migrate_keys)
        if compile:
            self.compile_blocks(
                **(compile if isinstance(compile, dict) else {}))

    def _share_seed(self, preprocessor) -> None:
        """The preprocessor draws from the model's seed; one set to
        another seed by hand would make two seeds, so it is refused."""
        own = getattr(preprocessor, 'seed', None)
        if own is not None and own != self.seed:
            raise ValueError(
                f'data_preprocessor seed {own} differs from the model seed '
                f'{self.seed}: the run has one seed (randomness.seed, or '
                'model.seed); leave data_preprocessor.seed unset')
        preprocessor.seed = self.seed

    def compile_blocks(self, **kwargs) -> None:
        """``torch.compile`` every transformer block in place."""
        from ..utils.layers import TransformerBlock
        for module in self.modules():
            if isinstance(module, TransformerBlock):
                module.compile(**kwargs)

    def _check_multi_crop(self, cfg: Optional[dict]) -> Optional[dict]:
        if cfg is None:
            return None
        mc = crop_options(
            dict(
                num_crops=2,
                size=self.backbone.img_size[0] // 2,
                scale=(0.1, 0.4),
                ratio=(3 / 4, 4 / 3),
                weight=1.0), cfg, 'multi_crop')
        p = self.backbone.patch_size
        if mc['num_crops'] < 1 or mc['size'] < p or mc['size'] % p:
            raise ValueError(f'multi_crop {mc}: num_crops must be >= 1 and '
                             f'size a multiple of the patch size {p}')
        lo, hi = mc['scale']
        if not 0 < lo <= hi <= 1:
            raise ValueError(f"multi_crop scale {mc['scale']} must satisfy "
                             '0 < min <= max <= 1')
        self.head.crop_query((1, 1), 'cpu')  # needs a whole-image level
        return mc

    @property
    def num_levels(self) -> int:
        """Levels of the hierarchy (the head's)."""
        return self.head.num_levels

    def init_weights(self) -> None:
        super().init_weights()
        self.target_encoder.load_state_dict(self.backbone.state_dict())

    def train(self, mode: bool = True) -> 'HJEPA':
        super().train(mode)
        self.target_encoder.eval()  # never drop paths in the targets
        return self

    @torch.no_grad()
    def update_target_encoder(self, momentum: float) -> None:
        """target <- momentum * target + (1 - momentum) * context.

        Walks both encoders' parameters pairwise, so both must hold the
        same tensors in the same layout. A wrapper that flattens the
        parameters into its own (FSDP wrapping the whole model) leaves the
        encoders with none or with unlike shards; that is refused rather
        than skipped, since a target that never moves trains on silently.
        Under FSDP, wrap each encoder (and each of its blocks) as a unit of
        its own: their shards then line up and the update stays local.
        """
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f'EMA momentum {momentum} must be in [0, 1]')
        target = list(self.target_encoder.parameters())
        source = list(self.backbone.parameters())
        shapes = [tuple(p.shape) for p in target]
        if not target or shapes != [tuple(p.shape) for p in source]:
            raise RuntimeError(
                f'EMA update: the target encoder has {len(target)} '
                f'parameter tensors and the context encoder {len(source)}, '
                'not alike in shape; a wrapper (e.g. FSDP over the whole '
                'model) flattened them. Wrap each encoder as its own unit.')
        torch._foreach_lerp_(target, source, 1.0 - momentum)

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

    def current_step(self) -> int:
        """The training step the next :meth:`loss` call is (from 0)."""
        return int(self.num_steps)

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
        """Sample masks, predict the targets, and score every level.

        Args:
            inputs: Normalised images [B, C, H, W].

        Returns:
            The head's losses (``loss_level{l}``, already weighted, and
            ``loss_reg`` with a regulariser), each the mean over the
            ``mask_sets``, and ``n_ctx``, the context tokens each sample
            kept (logged only).
        """
        p = self.backbone.patch_size
        grid = (inputs.shape[-2] // p, inputs.shape[-1] // p)
        step = int(self.num_steps)
        self.num_steps += 1

        with torch.no_grad():
            blocks = self.head.encoder_blocks(self.target_encoder.num_layers)
            feats = self.target_encoder(inputs, out_indices=blocks)
            target = self.head.targets(feats)  # [B, N, D]
            # each block's tokens, for depth levels
            block_tokens = dict(zip(blocks, feats))

        losses = {}
        for r in range(self.mask_sets):
            context_inputs, set_losses = self._predict(inputs, target, grid,
                                                       step, r, block_tokens)
            for key, value in set_losses.items():
                losses[key] = losses.get(key, 0) + value / self.mask_sets
        if self.multi_crop is not None:
            losses['loss_crops'] = self._crop_loss(context_inputs, target,
                                                   step)
        return losses

    def _predict(self,
                 inputs: torch.Tensor,
                 target: torch.Tensor,
                 grid: Tuple[int, int],
                 step: int,
                 mask_set: int,
                 block_tokens: Optional[Dict[int, torch.Tensor]] = None):
        """One mask set: its masks, context, predictions and losses.

        ``block_tokens`` holds the target encoder's output of each block
        the head's depth levels read (unused without them).

        Returns:
            The context encoder's (augmented) images and the set's losses,
            with ``n_ctx``.
        """

        def gen(stream):
            return step_generator(self.generator, self.seed, step,
                                  stream + mask_set * SET_STRIDE)

        masks = self.masker.sample(inputs.shape[0], grid, gen(MASK_STREAM))
        ctx_idx = masks['context'].to(inputs.device)  # [B, N_ctx]
        tgt_idx = masks['targets'].to(inputs.device)  # [B, M, N_tgt]
        ctx_mask = masks.get('context_mask')  # padded contexts only
        if ctx_mask is not None:
            ctx_mask = ctx_mask.to(inputs.device)

        context_inputs = inputs
        if self.context_augment is not None:
            context_inputs = self.context_augment(inputs,
                                                  gen(CONTEXT_AUGMENT_STREAM))
        # the padding mask goes only where there is padding, so encoders,
        # predictors and heads without the argument still work unpadded
        padded = {} if ctx_mask is None else dict(idx_mask=ctx_mask)
        context = self.backbone(context_inputs, ctx_idx,
                                **padded)[-1]  # [B, N_ctx, D]
        padded = {} if ctx_mask is None else dict(context_mask=ctx_mask)
        block_pred = query_pred = None
        depth = {}  # only with depth levels, for predictors without them
        sampled = {}  # only with sampling region levels
        if self.head.needs_prediction:
            # the regions the sampling levels ask this step (None: all)
            cells = self.head.sample_cells(gen(QUERY_STREAM))
            sampled = {} if cells is None else dict(cells=cells)
            queries, groups = self.head.queries(grid, inputs.device, **sampled)
            if self.head.predictor_blocks:
                depth = dict(hidden_layers=self.head.predictor_blocks)
            if self.query_predictor is None:
                out = self.predictor(context, ctx_idx, tgt_idx, grid, queries,
                                     groups, **padded, **depth)
                block_pred, query_pred = out[:2]
            else:  # the queries in a sequence of their own predictor
                out = self.predictor(context, ctx_idx, tgt_idx, grid, **padded,
                                     **depth)
                block_pred = out[0]
                query_pred = self.query_predictor(context, ctx_idx,
                                                  tgt_idx[:, :0], grid,
                                                  queries, groups, **padded)[1]
            if depth:
                depth = dict(hidden=out[2], block_tokens=block_tokens)
        losses = self.head.loss(block_pred,
                                query_pred, target, tgt_idx, grid, context,
                                gen(REG_STREAM), **padded, **depth, **sampled)
        # logged, not summed (no 'loss' in the name): how much context the
        # masks left, per sample on average (the batch's smallest when
        # contexts are cut to it)
        if ctx_mask is None:
            losses['n_ctx'] = torch.tensor(float(ctx_idx.shape[1]))
        else:
            losses['n_ctx'] = ctx_mask.sum(1).float().mean()
        return context_inputs, losses

    def _crop_loss(self, images: torch.Tensor, target: torch.Tensor,
                   step: int) -> torch.Tensor:
        """Predict each image's whole-image target from small crops of it.

        Args:
            images: The context encoder's (augmented) images [B, C, H, W].
            target: Target tokens of the whole images [B, N, D].
            step: Training step (seeds the crop boxes).
        """
        mc = self.multi_crop
        B, K, size = images.shape[0], mc['num_crops'], mc['size']
        gen = step_generator(self.generator, self.seed, step, CROP_STREAM)
        boxes = sample_crop_boxes(B * K, mc['scale'], mc['ratio'], gen)
        crops = crop_resize(images.repeat(K, 1, 1, 1), boxes, (size, size))
        tokens = self.backbone(crops)[-1]  # [K*B, n, D]
        p = self.backbone.patch_size
        grid = (size // p, size // p)
        n = grid[0] * grid[1]
        idx = torch.arange(n, device=images.device).expand(B * K, n)
        no_blocks = idx.new_zeros(B * K, 0, 0)
        _, pred = self.predictor(tokens, idx, no_blocks, grid,
                                 self.head.crop_query(grid, images.device),
                                 (1, ))  # [K*B, 1, D]
        return self.head.crop_loss(pred, target, K, mc['weight'])
