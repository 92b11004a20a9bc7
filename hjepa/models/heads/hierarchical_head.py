"""Targets, query tokens, projections and losses of every hierarchy level."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from hjepa.registry import MODELS
from ..utils.layers import gather_tokens, init_vit_weights
from ..utils.pooling import region_pool_matrix, window_pool
from ..utils.pos_embed import sincos_2d
from .levels import check_level, level_head


def _build(cfg_or_module):
    return MODELS.build(cfg_or_module) if isinstance(cfg_or_module,
                                                     dict) else cfg_or_module


@MODELS.register_module()
class HierarchicalLatentHead(BaseModule):
    """What every level of the hierarchy predicts, and its loss.

    Each entry of ``levels`` is one level:

    * ``dict(kind='patch')``: every patch of every target block, the
      predictor's output against the (layer-normalised) target token:
      I-JEPA's task. ``levels=[dict(kind='patch')]`` is exactly I-JEPA.
    * ``dict(kind='region', grid=(h, w))``: the patch grid is cut into
      ``h x w`` near-equal regions (:func:`region_ids`; ``grid=1`` is the
      whole image); the predictor gets one query token per region (a
      learned level embedding plus the region's mean position embedding)
      and predicts, from the context alone, the mean of the target
      encoder's tokens over the *whole* region, normalised again. A coarse
      level therefore asks for the gist of areas larger than any target
      block, most of them partly hidden, which no linear read-out of the
      patch predictions gives.
    * ``dict(kind='window', side=s)``: the earlier design, kept for
      comparison: predictions and targets of the target-block patches are
      averaged over the ``s x s`` windows of the grid that they fall in,
      the pooled predictions go through a linear head, and the pooled
      targets are normalised again.
    * ``dict(kind='depth', layer=k, pred_layer=j)``: a level in depth, not
      in space: every patch of every target block again, but the target is
      the (layer-normalised) output of the target encoder's block ``k``
      (0-based; negative counts from the last), and the prediction is the
      predictor's hidden state after its block ``j`` put through the
      level's own layer norm and linear head. ``pred_layer`` defaults to
      the predictor block at the same relative depth,
      ``round((k + 1) * P / E) - 1`` for an ``E``-block encoder and a
      ``P``-block predictor. A shallower block is a lower-level target
      (closer to the pixels) asked of a shallower part of the predictor;
      the levels cost no extra tokens, only a head each.
    * ``dict(kind='image', hidden=h)``: the whole image, asked of the
      context encoder itself rather than of the predictor: the average of
      the context encoder's tokens (the padded ones left out) goes through
      the level's own MLP (layer norm, ``in_dims -> h -> in_dims`` with a
      GELU; ``h`` defaults to ``2 * in_dims``) and predicts the mean of the
      target encoder's tokens over every patch, normalised again. The
      context sees part of the image (colour-jittered where the algorithm
      jitters it), so the pooled embedding, which is what k-NN and linear
      probes read, must carry the gist of the whole image. No extra
      tokens; one small MLP on ``[B, D]``.

    Options of a level: ``norm`` (normalise the pooled target again,
    default True), ``proj`` (a linear head on the prediction; default True
    for ``window`` levels, False for the others), and for ``region``
    levels ``center`` (default False): subtract the image's mean target
    token before pooling, so the level predicts how each region differs
    from the whole image, and what every token of an image shares (its
    colour, its brightness) cancels out of the target. A centred whole
    image (``grid=1``) would be zero and is refused. ``min_hidden``
    (default 0: every region) scores only the regions of which at least
    this fraction of patches lies in the target blocks, so the level asks
    for the gist of what the context does not show rather than also
    summarising what it does; a batch with no such region adds 0.
    ``sample`` (default None: every region) asks only ``sample`` of the
    level's regions per training step, drawn afresh each step, the same
    for every image of the batch (:meth:`sample_cells`): the level costs
    ``sample`` query tokens instead of ``h * w``, and over many steps
    every region is asked about as often.

    Args:
        in_dims: Width of encoder tokens (targets and predictions).
        pred_dims: Width of the predictor (query tokens).
        levels: Level specifications, as above.
        level_weights: Loss weight of each level, non-negative with a
            positive sum unless a regulariser carries the loss.
        learn_weights: Learn the level weights by homoscedastic uncertainty
            (Kendall et al., 2018): level ``l`` contributes
            ``w_l * (exp(-s_l) * L_l + s_l)`` with a learnt ``s_l``
            (starting at 0), so its effective weight ``w_l * exp(-s_l)``
            stays positive.
        loss: Latent distance, e.g. ``SmoothL1LatentLoss``.
        target_norm: Layer-normalise target tokens.
        target_layers: Average the last ``target_layers`` blocks of the
            target encoder, each layer-normalised (data2vec 2.0); 1 is the
            last block only (I-JEPA).
        regularizer: Optional anti-collapse term on the average-pooled
            context-encoder tokens, e.g. ``SIGReg``.
        reg_weight: Its weight.
        query_init_std: Std of the level embeddings' initialisation.
        init_cfg: mmengine initialisation config.
    """

    def __init__(self,
                 in_dims: int,
                 pred_dims: int,
                 levels: Sequence[dict] = (dict(kind='patch'), ),
                 level_weights: Sequence[float] = (1.0, ),
                 learn_weights: bool = False,
                 loss: Union[dict,
                             nn.Module] = dict(type='SmoothL1LatentLoss'),
                 target_norm: bool = True,
                 target_layers: int = 1,
                 regularizer: Optional[Union[dict, nn.Module]] = None,
                 reg_weight: float = 0.0,
                 query_init_std: float = 0.02,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.levels = [check_level(i, dict(lv)) for i, lv in enumerate(levels)]
        if not self.levels:
            raise ValueError('the head needs at least one level')
        if len(level_weights) != len(self.levels):
            raise ValueError(f'level_weights {tuple(level_weights)} must '
                             f'have one weight per level ({len(self.levels)})')
        weights = [float(w) for w in level_weights]
        if any(w < 0 or w != w for w in weights):
            raise ValueError(f'level_weights {tuple(level_weights)} must be '
                             'non-negative')
        if reg_weight < 0:
            raise ValueError(f'reg_weight {reg_weight} must be >= 0')
        if sum(weights) <= 0 and not (regularizer is not None
                                      and reg_weight > 0):
            raise ValueError(f'level_weights {tuple(level_weights)} sum to '
                             '0 and no regulariser is weighted: nothing '
                             'would be learnt')
        if target_layers < 1:
            raise ValueError(f'target_layers {target_layers} must be >= 1')
        self.in_dims = in_dims
        self.pred_dims = pred_dims
        self.register_buffer(
            'level_weights', torch.tensor(weights), persistent=False)
        self.learn_weights = learn_weights
        self.log_vars = nn.Parameter(torch.zeros(
            len(weights))) if learn_weights else None
        self.loss_module = _build(loss)
        self.target_norm = target_norm
        self.target_layers = target_layers
        self.regularizer = _build(regularizer) if regularizer else None
        self.reg_weight = float(reg_weight)

        self.projs = nn.ModuleList(
            level_head(lv, in_dims, pred_dims) for lv in self.levels)
        self.depth_levels = [
            i for i, lv in enumerate(self.levels) if lv['kind'] == 'depth'
        ]
        self.region_levels = [
            i for i, lv in enumerate(self.levels) if lv['kind'] == 'region'
        ]
        self.image_levels = [
            i for i, lv in enumerate(self.levels) if lv['kind'] == 'image'
        ]
        # whether a level with a positive weight reads the predictor: not
        # with the regulariser alone (every weight zero) or when only image
        # levels, which read the pooled context tokens, weigh anything
        self.needs_prediction = any(w > 0 and lv['kind'] != 'image'
                                    for w, lv in zip(weights, self.levels))
        self.level_embed = nn.Parameter(
            torch.zeros(len(self.region_levels),
                        pred_dims)) if self.region_levels else None
        self.query_init_std = query_init_std
        self._pool_cache: Dict[tuple, torch.Tensor] = {}

    @property
    def num_levels(self) -> int:
        return len(self.levels)

    def freeze_unread(self) -> None:
        """Stop gradients to what no loss reads without the predictor.

        Called by the algorithm when :attr:`needs_prediction` is False:
        the projections of the levels that read the predictor, the region
        level embeddings, and the learnt level weights when no level is
        scored get no gradient, which DDP without
        ``find_unused_parameters`` refuses.
        """
        for i, lv in enumerate(self.levels):
            if lv['kind'] != 'image':
                self.projs[i].requires_grad_(False)
        if self.level_embed is not None:
            self.level_embed.requires_grad_(False)
        if self.log_vars is not None and not self.image_levels:
            self.log_vars.requires_grad_(False)

    def init_weights(self) -> None:
        super().init_weights()
        if self.level_embed is not None:
            nn.init.trunc_normal_(self.level_embed, std=self.query_init_std)
        for proj in self.projs:
            if isinstance(proj, nn.Sequential):  # depth / image level heads
                proj.apply(init_vit_weights)
            elif isinstance(proj, nn.Linear):
                # start as the identity: a coarse level begins by reading the
                # prediction as it is rather than through a random map
                nn.init.eye_(proj.weight)
                nn.init.zeros_(proj.bias)

    def check_grid(self, grid_size: Tuple[int, int]) -> None:
        """Raise if a level does not fit a patch grid of ``grid_size``."""
        H, W = grid_size
        for i, lv in enumerate(self.levels):
            if lv['kind'] == 'region' and (lv['grid'][0] > H
                                           or lv['grid'][1] > W):
                raise ValueError(f'level {i}: region grid {lv["grid"]} is '
                                 f'finer than the patch grid {(H, W)}')
            if lv['kind'] == 'window' and lv['side'] > max(H, W):
                raise ValueError(f'level {i}: window side {lv["side"]} is '
                                 f'larger than the patch grid {(H, W)}')

    def set_depths(self, encoder_layers: int, predictor_layers: int) -> None:
        """Resolve the depth levels' block indices for an encoder of
        ``encoder_layers`` blocks and a predictor of ``predictor_layers``
        (raises if a level names a block that does not exist)."""
        E, P = encoder_layers, predictor_layers
        for i in self.depth_levels:
            lv = self.levels[i]
            k = lv['layer'] + E if lv['layer'] < 0 else lv['layer']
            if not 0 <= k < E:
                raise ValueError(f'level {i}: layer {lv["layer"]} is not a '
                                 f'block of the {E}-block encoder')
            j = lv.get('pred_layer')
            if j is None:
                j = min(max(round((k + 1) * P / E) - 1, 0), P - 1)
            elif j < 0:
                j += P
            if not 0 <= j < P:
                raise ValueError(f'level {i}: pred_layer {lv["pred_layer"]} '
                                 f'is not a block of the {P}-block predictor')
            lv['block'], lv['pred_block'] = k, j

    def encoder_blocks(self, encoder_layers: int) -> List[int]:
        """The target encoder's blocks the targets need, ascending: the
        last ``target_layers`` and every depth level's."""
        blocks = set(
            range(encoder_layers - self.target_layers, encoder_layers))
        blocks.update(self._resolved(i)[0] for i in self.depth_levels)
        return sorted(blocks)

    def _resolved(self, i: int) -> Tuple[int, int]:
        """Depth level ``i``'s (encoder block, predictor block)."""
        lv = self.levels[i]
        if 'block' not in lv:
            raise RuntimeError(
                f'level {i} ({lv}) is a depth level whose blocks are not '
                'resolved yet: call head.set_depths(encoder_layers, '
                'predictor_layers) first (HJEPA does it when it builds)')
        return lv['block'], lv['pred_block']

    @property
    def predictor_blocks(self) -> List[int]:
        """The predictor blocks whose hidden states the depth levels
        read, ascending (empty without depth levels)."""
        return sorted({self._resolved(i)[1] for i in self.depth_levels})

    def _pool_matrix(self, grid_size, region_grid, device) -> torch.Tensor:
        key = (tuple(grid_size), tuple(region_grid), str(device))
        if key not in self._pool_cache:
            self._pool_cache[key] = region_pool_matrix(
                tuple(grid_size), tuple(region_grid)).to(device)
        return self._pool_cache[key]

    def sample_cells(
        self,
        generator: Optional[torch.Generator] = None
    ) -> Optional[Dict[int, torch.Tensor]]:
        """Draw the regions each sampling level asks about this step.

        Returns:
            For each region level with ``sample=k``, its index and the
            ``k`` region indices drawn (sorted, CPU), to pass to
            :meth:`queries` and :meth:`loss` alike; None when no level
            samples.
        """
        cells = {}
        for i in self.region_levels:
            k = self.levels[i]['sample']
            if k is not None:
                cells[i] = torch.randperm(
                    self._num_regions(i),
                    generator=generator)[:k].sort().values
        return cells or None

    def _num_regions(self, i: int) -> int:
        """How many regions region level ``i``'s grid has."""
        h, w = self.levels[i]['grid']
        return h * w

    def _num_asked(self, i: int, cells: Optional[Dict[int,
                                                      torch.Tensor]]) -> int:
        """How many regions region level ``i`` asks this step: those of
        ``cells`` if drawn, else every one."""
        if cells is not None and i in cells:
            return len(cells[i])
        return self._num_regions(i)

    def _region_pool(self, i: int, grid_size, device,
                     cells: Optional[Dict[int, torch.Tensor]]):
        """Pool rows of region level ``i``: those of ``cells`` if drawn."""
        pool = self._pool_matrix(grid_size, self.levels[i]['grid'], device)
        if cells is not None and i in cells:
            pool = pool[cells[i].to(device)]
        return pool

    def queries(
        self,
        grid_size: Tuple[int, int],
        device,
        cells: Optional[Dict[int, torch.Tensor]] = None
    ) -> Tuple[Optional[torch.Tensor], Tuple[int, ...]]:
        """Query tokens [1, R, D_pred] of the region levels, finest first in
        the order of ``levels``, and the number of queries per level
        (``cells`` from :meth:`sample_cells`: only the regions drawn;
        None: every region)."""
        if not self.region_levels:
            return None, ()
        pos = sincos_2d(self.pred_dims, tuple(grid_size)).to(device)
        tokens, groups = [], []
        for j, i in enumerate(self.region_levels):
            pool = self._region_pool(i, grid_size, device, cells)
            tokens.append(pool @ pos + self.level_embed[j])  # [R_l, D_pred]
            groups.append(pool.shape[0])
        return torch.cat(tokens).unsqueeze(0), tuple(groups)

    @property
    def whole_image_level(self) -> Optional[int]:
        """Index of the ``region`` level with ``grid=1`` (None without)."""
        for i, lv in enumerate(self.levels):
            if lv['kind'] == 'region' and tuple(lv['grid']) == (1, 1):
                return i
        return None

    def crop_query(self, grid_size: Tuple[int, int], device) -> torch.Tensor:
        """The whole-image query token [1, 1, D_pred] placed on a crop's own
        patch grid (its level embedding plus the grid's mean position)."""
        i = self.whole_image_level
        if i is None:
            raise ValueError('multi-crop predicts the whole-image level: the '
                             "head needs dict(kind='region', grid=1)")
        pos = sincos_2d(self.pred_dims, tuple(grid_size)).to(device)
        embed = self.level_embed[self.region_levels.index(i)]
        return (pos.mean(0) + embed).view(1, 1, -1)

    def crop_loss(self, pred: torch.Tensor, target_tokens: torch.Tensor,
                  num_crops: int, weight: float) -> torch.Tensor:
        """Loss of whole-image predictions made from crops.

        Args:
            pred: Predictions [K * B, 1, D] from K crops of each image
                (crop-major: the B images' first crops first).
            target_tokens: Target tokens of the whole images [B, N, D].
            num_crops: K.
            weight: Weight relative to the whole-image level's.

        Returns:
            The weighted loss.
        """
        i = self.whole_image_level
        with torch.no_grad():
            tgt = self._norm(
                target_tokens.mean(1, keepdim=True),
                self.levels[i])  # [B, 1, D]
        tgt = tgt.repeat(num_crops, 1, 1)
        pred = self.projs[i](pred.float())
        return weight * self.level_weights[i] * self.loss_module(pred, tgt)

    def targets(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        """Target tokens [B, N, D] from the target encoder's last
        ``target_layers`` outputs (each [B, N, D])."""
        feats = [f.float() for f in feats[-self.target_layers:]]
        if len(feats) == 1:
            h = feats[0]
            return F.layer_norm(h, h.shape[-1:]) if self.target_norm else h
        h = torch.stack([F.layer_norm(f, f.shape[-1:]) for f in feats]).mean(0)
        return F.layer_norm(h, h.shape[-1:]) if self.target_norm else h

    def _norm(self, x: torch.Tensor, level: dict) -> torch.Tensor:
        if self.target_norm and level.get('norm', True):
            return F.layer_norm(x, x.shape[-1:])
        return x

    def loss(
        self,
        block_pred: Optional[torch.Tensor],
        query_pred: Optional[torch.Tensor],
        target_tokens: torch.Tensor,
        target_idx: torch.Tensor,
        grid_size: Tuple[int, int],
        context: Optional[torch.Tensor] = None,
        generator: Optional[torch.Generator] = None,
        context_mask: Optional[torch.Tensor] = None,
        hidden: Optional[Dict[int, torch.Tensor]] = None,
        block_tokens: Optional[Dict[int, torch.Tensor]] = None,
        cells: Optional[Dict[int, torch.Tensor]] = None
    ) -> Dict[str, torch.Tensor]:
        """Weighted loss of every level (and the regulariser).

        Args:
            block_pred: Predictions of the target blocks [B * M, N_tgt, D]
                (None when nothing is predicted).
            query_pred: Predictions of the region queries [B, R, D], in the
                order of :meth:`queries`, or None.
            target_tokens: Target tokens of every patch [B, N, D] (from
                :meth:`targets`).
            target_idx: Patch indices of the target blocks [B, M, N_tgt].
            grid_size: ``(H, W)`` of the patch grid.
            context: Context-encoder tokens [B, N_ctx, D] for image levels
                and the regulariser.
            generator: Random generator of the regulariser.
            context_mask: [B, N_ctx], True for real context tokens (image
                levels and the regulariser pool only those); None: all
                real.
            hidden: Depth levels only: the predictor's hidden states of the
                target-block tokens after each of :attr:`predictor_blocks`
                [B * M, N_tgt, D_pred].
            block_tokens: Depth levels only: the target encoder's output
                of each of :meth:`encoder_blocks` [B, N, D].
            cells: The regions drawn by :meth:`sample_cells`, as given to
                :meth:`queries` for ``query_pred`` (None: every region).

        Returns:
            ``loss_level{l}`` per level scored (weighted; without
            predictions only image levels are), ``loss_reg`` with a
            regulariser, and ``weight_level{l}`` (the effective weights)
            when they are learnt.
        """
        losses: Dict[str, torch.Tensor] = {}
        B, M, n_tgt = target_idx.shape
        if self.depth_levels and block_pred is not None and (
                hidden is None or block_tokens is None):
            raise ValueError('depth levels need the predictor\'s hidden '
                             'states (hidden) and the target encoder\'s '
                             'blocks (block_tokens)')
        if self.image_levels and context is None:
            raise ValueError('image levels need the context tokens')
        # the average of the real context tokens [B, D], once for the image
        # levels and the regulariser (neither: not computed)
        use_reg = self.regularizer is not None and self.reg_weight > 0
        pooled = None
        if context is not None and (self.image_levels or use_reg):
            pooled = self._pool_context(context, context_mask)
        # without predictions (no positively weighted level reads them)
        # only the image levels are scored
        if block_pred is not None:
            flat_idx = target_idx.flatten(0, 1)  # [B*M, N_tgt]
            block_target = gather_tokens(target_tokens, target_idx.flatten(1))
            block_target = block_target.view(B * M, n_tgt, -1)
        if block_pred is not None and self.region_levels:
            # counted, not pooled: the pool rows are gathered once, below
            asked = sum(self._num_asked(i, cells) for i in self.region_levels)
            got = None if query_pred is None else query_pred.shape[1]
            if got != asked:
                raise ValueError(
                    f'query_pred has {got} query predictions where the region '
                    f'levels ask {asked} (cells {cells}): pass loss() the '
                    'cells that queries() built the queries from')
        if block_pred is not None or self.image_levels:
            query_start = 0
            in_targets = None  # [B, N], 1 on target-block patches
            for i, lv in enumerate(self.levels):
                if block_pred is None and lv['kind'] != 'image':
                    continue
                if lv['kind'] == 'patch':
                    pred, tgt, valid = block_pred, block_target, None
                elif lv['kind'] == 'window':
                    pred, valid = self._window(block_pred, flat_idx, grid_size,
                                               lv['side'])
                    with torch.no_grad():
                        tgt, _ = self._window(block_target, flat_idx,
                                              grid_size, lv['side'])
                        tgt = self._norm(tgt, lv)
                elif lv['kind'] == 'image':
                    pred, valid = pooled.unsqueeze(1), None  # [B, 1, D]
                    with torch.no_grad():
                        tgt = self._norm(
                            target_tokens.mean(1, keepdim=True),
                            lv)  # [B, 1, D]
                elif lv['kind'] == 'depth':
                    block, pred_block = self._resolved(i)
                    pred, valid = hidden[pred_block], None
                    with torch.no_grad():
                        tokens = self._norm(block_tokens[block].float(), lv)
                        tgt = gather_tokens(tokens, target_idx.flatten(1))
                        tgt = tgt.view(B * M, n_tgt, -1)
                else:
                    pool = self._region_pool(i, grid_size,
                                             target_tokens.device, cells)
                    n = pool.shape[0]
                    pred = query_pred[:, query_start:query_start + n]
                    query_start += n
                    with torch.no_grad():
                        tokens = target_tokens
                        if lv.get('center', False):
                            tokens = tokens - tokens.mean(1, keepdim=True)
                        tgt = self._norm(
                            torch.einsum('rn,bnd->brd', pool, tokens),
                            lv)  # [B, R_l, D]
                    valid = None
                    if lv['min_hidden'] > 0:
                        if in_targets is None:  # once for all region levels
                            in_targets = pool.new_zeros(
                                target_tokens.shape[:2]).scatter_(
                                    1, target_idx.flatten(1), 1.0)
                        # pool rows average their region: the hidden share
                        valid = in_targets @ pool.T >= lv['min_hidden'] - 1e-6
                pred = self.projs[i](pred.float())
                losses[f'loss_level{i}'] = self.loss_module(pred, tgt, valid)
            self._weigh(losses)
        if use_reg:
            if context is None:
                raise ValueError('the regulariser needs the context tokens')
            losses['loss_reg'] = self.reg_weight * self.regularizer(
                pooled, generator)
        return losses

    @staticmethod
    def _pool_context(context: torch.Tensor,
                      context_mask: Optional[torch.Tensor]) -> torch.Tensor:
        """Average of the real context tokens [B, D] (fp32)."""
        if context_mask is None:
            return context.float().mean(1)
        m = context_mask.unsqueeze(-1)
        return context.float().masked_fill(~m, 0).sum(1) / m.sum(1)

    @staticmethod
    def _window(tokens, idx, grid_size, side):
        return window_pool(tokens, idx, grid_size, side.bit_length() - 1)

    def _weigh(self, losses: Dict[str, torch.Tensor]) -> None:
        w = self.level_weights
        for i in range(self.num_levels):
            key = f'loss_level{i}'
            if key not in losses:  # not scored: reads no prediction
                continue
            if self.log_vars is None:
                losses[key] = w[i] * losses[key]
                continue
            s = self.log_vars[i]
            effective = w[i] * torch.exp(-s)
            losses[key] = effective * losses[key] + w[i] * s
            losses[f'weight_level{i}'] = effective.detach()

    def level_names(self) -> List[str]:
        """Short names of the levels, e.g. ``['patch', 'region2x2']``."""
        names = []
        for lv in self.levels:
            if lv['kind'] == 'region':
                names.append('region{}x{}'.format(*lv['grid']))
            elif lv['kind'] == 'window':
                names.append(f'window{lv["side"]}')
            elif lv['kind'] == 'depth':
                names.append(f'depth{lv["layer"]}')
            elif lv['kind'] == 'image':
                names.append('image')
            else:
                names.append('patch')
        return names
