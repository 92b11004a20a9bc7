"""The narrow ViT that predicts target representations from the context."""
import numbers
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from hjepa.registry import MODELS
from ..utils.checks import is_int
from ..utils.layers import (GroupedLayout, TransformerBlock, gather_tokens,
                            init_vit_weights, multiway_block, rescale_blocks,
                            run_block)
from ..utils.pos_embed import sincos_2d


def shared_context_mask(n_ctx: int,
                        num_blocks: int,
                        block_len: int,
                        query_groups: Tuple[int, ...] = (),
                        query_attention: str = 'all',
                        device=None) -> torch.Tensor:
    """Attention mask of one sequence holding the context, every target
    block and the query tokens: ``[ctx | block_1 ... block_M | queries]``.

    Context tokens attend to the context only (so they are what a sequence
    of the context alone would give); a block's tokens attend to the context
    and their own block, never another block (so each block is predicted as
    if it were alone with the context, as in I-JEPA); query tokens attend to
    the context and to queries as ``query_attention`` says.

    Args:
        n_ctx: Context tokens.
        num_blocks: Target blocks M.
        block_len: Tokens per block.
        query_groups: Query tokens of each query level, finest first.
        query_attention: ``'all'`` (every query sees every query),
            ``'level'`` (its own level's) or ``'finer'`` (its own level's
            and every finer level's).
        device: Device of the mask.

    Returns:
        Boolean mask [L, L], True where a row may attend to a column.
    """
    if query_attention not in ('all', 'level', 'finer'):
        raise ValueError(f"query_attention {query_attention!r} must be "
                         "'all', 'level' or 'finer'")
    n_blocks = num_blocks * block_len
    n_query = sum(query_groups)
    L = n_ctx + n_blocks + n_query
    # group id of every token: 0 context, 1..M blocks, M+1.. query levels
    group = torch.zeros(L, dtype=torch.long, device=device)
    group[n_ctx:n_ctx + n_blocks] = torch.arange(
        1, num_blocks + 1, device=device).repeat_interleave(block_len)
    start = n_ctx + n_blocks
    for level, n in enumerate(query_groups):
        group[start:start + n] = num_blocks + 1 + level
        start += n
    row, col = group[:, None], group[None, :]
    is_query_row = row > num_blocks
    is_query_col = col > num_blocks
    if query_attention == 'all':
        query_ok = is_query_col
    elif query_attention == 'level':
        query_ok = col == row
    else:
        query_ok = is_query_col & (col <= row)
    return (col == 0) | (col == row) | (is_query_row & query_ok)


def _key_mask(context_mask: torch.Tensor, n_rest: int) -> torch.Tensor:
    """Attention key mask [B, 1, 1, N_ctx + n_rest]: the context's padding
    is masked out, the ``n_rest`` tokens after the context are all kept."""
    keys = torch.cat(
        [context_mask,
         context_mask.new_ones(context_mask.shape[0], n_rest)], 1)
    return keys[:, None, None, :]


@MODELS.register_module()
class HJEPAPredictor(BaseModule):
    """Predicts the encoder's tokens at target positions from the context.

    Context tokens are projected to the predictor's (narrower) width and get
    position embeddings; every target block adds one learned mask token per
    target position, carrying that position's embedding. Extra *query*
    tokens (built by a head, e.g. one per region of a coarse hierarchy
    level) can be appended; they are predicted in the same pass.

    Two ways to lay out a batch:

    * ``shared_context=False`` (I-JEPA): the context is repeated once per
      target block, one sequence ``[ctx | block_m]`` of length
      ``N_ctx + N_tgt`` per block, ``B * M`` sequences. Query tokens are
      appended to every block's sequence and their predictions averaged
      over the M copies.
    * ``shared_context=True``: one sequence per image,
      ``[ctx | block_1 ... block_M | queries]``, with an attention mask
      that keeps the blocks apart (see :func:`shared_context_mask`): the
      context is encoded once instead of M times. Context tokens do not
      attend to the mask tokens here, which I-JEPA's layout lets them do,
      so the two layouts are different models.

    Args:
        in_dims: Width of the encoder tokens it reads and predicts.
        embed_dims: Width of the predictor.
        num_layers: Depth of the predictor.
        num_heads: Attention heads.
        grid_size: ``(H, W)`` of the patch grid (an int for square).
        mlp_ratio: MLP hidden width over ``embed_dims``.
        drop_path_rate: Stochastic depth of the last block.
        with_cp: Activation checkpointing of every block when training.
        shared_context: One sequence per image instead of one per block.
        query_attention: Which query tokens a query token attends to in the
            shared layout: ``'all'``, ``'level'`` or ``'finer'``.
        query_context_grad: Scale of the gradient the query tokens' losses
            send into the context (the context encoder): 1 (default) as
            for the target blocks, 0 stops it, so query (coarse) levels
            train only the predictor and their heads. Below 1 the queries
            are predicted in a second sequence ``[ctx | queries]`` of the
            shared layout (same values, the context stream computed twice).
            Only where queries are predicted beside target blocks; a
            queries-only call (multi-crop) keeps the whole gradient.
        grouped_attention: In the shared layout, attend group by group
            (:class:`~hjepa.models.utils.layers.GroupedLayout`: the context,
            the M blocks each with the context, the queries; no [L, L]
            mask, so flash attention on a GPU) instead of through the mask.
            The same model either way; with a padded context
            (``context_mask``) the mask is used. Off by default: it
            measured 0.88x on a CPU (the CPU default, one thread) and 1.01x
            on an H200 (ViT-B/16, batch 512, 18% more memory).
        multiway: In the shared layout, the query tokens go through weights
            of their own (a multiway transformer, as in VLMo and BEiT-3:
            per block their own norms, attention projections and MLP, and
            their own final norm and projection) while attending over the
            same sequence: the coarse levels stop sharing the block
            predictor's weights without a second pass over the context (as
            a separate ``query_predictor`` of the algorithm makes). The
            context and the blocks are predicted as without queries; the
            queries run as a stream of their own beside ``[ctx | blocks]``
            (:func:`~hjepa.models.utils.layers.multiway_block`), the model
            one sequence under the shared mask would be, without its
            [L + R, L + R] scores. Off in the class; the CIFAR configs
            (``configs/_base_/models/hjepa_vit-tiny-p4.py``) turn it on,
            with every level weighted 1: at 60 minutes on two CPU cores
            it was 1.0 k-NN point above I-JEPA on the mean of three seeds
            run side by side, ahead on two of them (docs/results.md "The
            hierarchy against I-JEPA"), at 1.16x the patch level's step
            on one CPU thread.
        query_depth: With ``multiway``, the query tokens join the sequence
            for the last ``query_depth`` blocks only (None: every block):
            before them ``[ctx | blocks]`` runs as without queries, then the
            queries (their embeddings as given) read the context's keys and
            values of those last blocks through their own ``query_depth``
            blocks of weights. Fewer blocks for the query stream, a cheaper
            step; the blocks' predictions do not change.
        init_cfg: mmengine initialisation config.
    """

    def __init__(self,
                 in_dims: int,
                 embed_dims: int = 384,
                 num_layers: int = 12,
                 num_heads: int = 12,
                 grid_size=14,
                 mlp_ratio: float = 4.0,
                 drop_path_rate: float = 0.0,
                 with_cp: bool = False,
                 shared_context: bool = False,
                 query_attention: str = 'all',
                 query_context_grad: float = 1.0,
                 grouped_attention: bool = False,
                 multiway: bool = False,
                 query_depth: Optional[int] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.grid_size = (grid_size, grid_size) if isinstance(
            grid_size, int) else tuple(grid_size)
        self.in_dims = in_dims
        self.embed_dims = embed_dims
        self.shared_context = shared_context
        self.with_cp = with_cp
        shared_context_mask(0, 0, 0, (), query_attention)  # validates
        self.query_attention = query_attention
        if not (isinstance(query_context_grad, numbers.Real)
                and 0.0 <= query_context_grad <= 1.0):
            raise ValueError(f'query_context_grad {query_context_grad!r} '
                             'must be a number in [0, 1]')
        if query_context_grad != 1.0 and not shared_context:
            raise ValueError(
                f'query_context_grad={query_context_grad} needs '
                'shared_context=True (the repeated layout predicts the '
                'queries inside every block\'s sequence)')
        self.query_context_grad = float(query_context_grad)
        if grouped_attention and not shared_context:
            raise ValueError(
                'grouped_attention=True needs shared_context=True (the '
                'repeated layout has no mask to replace)')
        self.grouped_attention = grouped_attention
        if multiway and not shared_context:
            raise ValueError(
                'multiway=True needs shared_context=True (the repeated layout '
                'predicts the queries inside every block\'s sequence)')
        self.multiway = multiway
        if query_depth is not None and not multiway:
            raise ValueError(
                f'query_depth={query_depth} needs multiway=True (the query '
                'stream of its own); with multiway=False set query_depth=None '
                'too (the CPU default sets query_depth=1)')
        valid = is_int(query_depth) and 1 <= query_depth <= num_layers
        if query_depth is not None and not valid:
            raise ValueError(f'query_depth {query_depth!r} must be an int in '
                             f'1..num_layers ({num_layers}) or None')
        self.query_depth = num_layers if query_depth is None else int(
            query_depth)
        self.embed = nn.Linear(in_dims, embed_dims)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, embed_dims))
        self.register_buffer(
            'pos_embed',
            sincos_2d(embed_dims, self.grid_size).unsqueeze(0),
            persistent=False)  # [1, N, D_pred]
        dpr = torch.linspace(0, drop_path_rate, num_layers).tolist()
        self.blocks = nn.ModuleList([
            TransformerBlock(embed_dims, num_heads, mlp_ratio, True, dpr[i])
            for i in range(num_layers)
        ])
        self.norm = nn.LayerNorm(embed_dims, eps=1e-6)
        self.proj = nn.Linear(embed_dims, in_dims)
        if multiway:  # the query tokens' own weights
            self.query_blocks = nn.ModuleList([
                TransformerBlock(embed_dims, num_heads, mlp_ratio, True,
                                 dpr[i])
                for i in range(num_layers - self.query_depth, num_layers)
            ])
            self.query_norm = nn.LayerNorm(embed_dims, eps=1e-6)
            self.query_proj = nn.Linear(embed_dims, in_dims)

    def init_weights(self) -> None:
        if self.init_cfg is not None:
            super().init_weights()
            return
        self.apply(init_vit_weights)
        nn.init.trunc_normal_(self.mask_token, std=0.02)
        rescale_blocks(self.blocks)
        if self.multiway:
            rescale_blocks(self.query_blocks)

    def position_embedding(self, grid_size) -> torch.Tensor:
        """Position embedding [1, H*W, D_pred] for a patch grid."""
        if grid_size is None or tuple(grid_size) == self.grid_size:
            return self.pos_embed
        return sincos_2d(self.embed_dims, tuple(grid_size)).to(
            self.pos_embed.device).unsqueeze(0)

    def forward(
        self,
        context: torch.Tensor,
        context_idx: torch.Tensor,
        target_idx: torch.Tensor,
        grid_size: Optional[Tuple[int, int]] = None,
        queries: Optional[torch.Tensor] = None,
        query_groups: Tuple[int, ...] = (),
        context_mask: Optional[torch.Tensor] = None,
        hidden_layers: Sequence[int] = ()
    ) -> Tuple[torch.Tensor, ...]:
        """Predict the target tokens (and the query tokens, if any).

        Args:
            context: Encoded context tokens [B, N_ctx, D_in].
            context_idx: Their patch indices [B, N_ctx].
            target_idx: Patch indices of M target blocks [B, M, N_tgt]
                (M may be 0: queries only).
            grid_size: ``(H, W)`` of the patch grid the indices refer to;
                defaults to the configured one.
            queries: Query tokens [1 or B, R, D_pred] (positions already
                added), or None.
            query_groups: Queries per level, summing to R (for the
                attention mask); one group of R when empty.
            context_mask: [B, N_ctx], True for real context tokens; no
                token attends to the others (padding). None: all real.
            hidden_layers: Blocks (0-based) after which the target tokens'
                hidden states are returned too (for depth levels).

        Returns:
            Predictions [B * M, N_tgt, D_in], sample-major (the M blocks of
            sample 0 first), and the queries' predictions [B, R, D_in] (None
            without queries); with ``hidden_layers``, a third item: a dict
            from each of those blocks to the target tokens' hidden states
            after it [B * M, N_tgt, D_pred], before the final norm and
            projection.
        """
        B, M, n_tgt = target_idx.shape
        n_ctx = context.shape[1]
        hidden_layers = sorted(set(int(i) for i in hidden_layers))
        if hidden_layers and not 0 <= hidden_layers[0] <= hidden_layers[
                -1] < len(self.blocks):
            raise ValueError(f'hidden_layers {hidden_layers} must be blocks '
                             f'of the predictor, 0..{len(self.blocks) - 1}')
        hidden = {}
        if context_mask is not None and (context_mask.shape
                                         != context.shape[:2]
                                         or context_mask.dtype != torch.bool):
            raise ValueError(
                f'context_mask ({context_mask.dtype}, shape '
                f'{tuple(context_mask.shape)}) must be a bool mask of the '
                f'context tokens\' shape {tuple(context.shape[:2])}')
        pos = self.position_embedding(grid_size).expand(B, -1, -1)
        ctx_pos = gather_tokens(pos, context_idx)
        x = self.embed(context) + ctx_pos
        tgt_pos = gather_tokens(pos, target_idx.flatten(1))  # [B, M*N_tgt, D]
        tgt = (self.mask_token + tgt_pos).to(x.dtype)
        n_query = 0
        if queries is not None:
            n_query = queries.shape[1]
            queries = queries.to(x.dtype).expand(B, -1, -1)  # [B, R, D]
            query_groups = tuple(query_groups) or (n_query, )
            if sum(query_groups) != n_query:
                raise ValueError(f'query_groups {query_groups} must sum to '
                                 f'the {n_query} query tokens')

        if self.shared_context or M == 0:  # no blocks: nothing to repeat
            if n_query and M and self.query_context_grad != 1.0:
                # the blocks, then the queries from a context whose
                # gradient is scaled: two sequences, the same values
                pred, _, hidden = self._shared(x, tgt, None, (), M, n_tgt,
                                               context_mask, hidden_layers)
                s = self.query_context_grad
                scaled = context.detach() + s * (context - context.detach())
                x_q = self.embed(scaled) + ctx_pos
                _, query_pred, _ = self._shared(x_q, tgt[:, :0], queries,
                                                query_groups, 0, n_tgt,
                                                context_mask, ())
            else:
                pred, query_pred, hidden = self._shared(
                    x, tgt, queries, query_groups, M, n_tgt, context_mask,
                    hidden_layers)
            out = (pred, query_pred)
            return out + (hidden, ) if hidden_layers else out

        x = x.repeat_interleave(M, dim=0)  # [B*M, N_ctx, D_pred]
        parts = [x, tgt.view(B * M, n_tgt, -1)]
        if n_query:
            parts.append(queries.repeat_interleave(M, dim=0))
        x = torch.cat(parts, dim=1)
        mask = None
        if context_mask is not None:  # [B*M, 1, 1, L]
            mask = _key_mask(
                context_mask.repeat_interleave(M, dim=0), x.shape[1] - n_ctx)
        for i, block in enumerate(self.blocks):
            x = run_block(block, x, mask, with_cp=self.with_cp)
            if i in hidden_layers:
                hidden[i] = x[:, n_ctx:n_ctx + n_tgt]
        x = self.proj(self.norm(x[:, n_ctx:]))  # [B*M, N_tgt + R, D_in]
        pred = x[:, :n_tgt]
        query_pred = None
        if n_query:  # [B, R, D]
            query_pred = x[:, n_tgt:].unflatten(0, (B, M)).mean(1)
        out = (pred, query_pred)
        return out + (hidden, ) if hidden_layers else out

    def _shared(self, x: torch.Tensor, tgt: torch.Tensor,
                queries: Optional[torch.Tensor], query_groups: Tuple[int, ...],
                M: int, n_tgt: int, context_mask: Optional[torch.Tensor],
                hidden_layers: Sequence[int]):
        """One sequence ``[ctx | block_1 ... block_M | queries]`` per image
        (see :func:`shared_context_mask`).

        Args:
            x: Embedded context tokens [B, N_ctx, D_pred].
            tgt: Mask tokens of the M blocks [B, M * N_tgt, D_pred].
            queries: Query tokens [B, R, D_pred], or None.

        Returns:
            The blocks' predictions [B * M, N_tgt, D_in], the queries'
            [B, R, D_in] (None without queries) and the blocks' hidden
            states after ``hidden_layers``.
        """
        B, n_ctx = x.shape[:2]
        n_query = 0 if queries is None else queries.shape[1]
        groups = query_groups if n_query else ()
        # multiway: the queries are a stream of their own beside [ctx | blocks]
        multiway = bool(self.multiway and n_query)
        if not multiway and n_query:
            x = torch.cat([x, tgt, queries], dim=1)
        else:
            x = torch.cat([x, tgt], dim=1)
        in_seq = 0 if multiway else n_query  # query tokens inside x
        query_mask = None
        if n_query and self.query_attention != 'all' and (
                multiway or self.grouped_attention):
            # the queries' rows of the mask, over the context and queries
            # (the one-sequence mask below holds them itself)
            start = n_ctx + M * n_tgt
            rows = shared_context_mask(n_ctx, M, n_tgt, groups,
                                       self.query_attention, x.device)[start:]
            query_mask = torch.cat([rows[:, :n_ctx], rows[:, start:]], 1)
        if self.grouped_attention and context_mask is None:
            mask = GroupedLayout(n_ctx, M, n_tgt, in_seq,
                                 None if multiway else query_mask)
        else:
            mask = shared_context_mask(n_ctx, M, n_tgt,
                                       () if multiway else groups,
                                       self.query_attention, x.device)
            if context_mask is not None:
                mask = mask & _key_mask(context_mask,
                                        x.shape[1] - n_ctx)  # [B, 1, L, L]
                if multiway:  # [B, 1, R, n_ctx + R]
                    keys = _key_mask(context_mask, n_query)
                    query_mask = keys if query_mask is None else (query_mask
                                                                  & keys)
        hidden = {}
        # the first block the queries go through
        first_query = len(self.blocks) - self.query_depth
        for i, block in enumerate(self.blocks):
            if multiway and i >= first_query:
                x, queries = run_block(
                    multiway_block,
                    block,
                    self.query_blocks[i - first_query],
                    x,
                    queries,
                    n_ctx,
                    mask,
                    query_mask,
                    with_cp=self.with_cp)
            else:
                x = run_block(block, x, mask, with_cp=self.with_cp)
            if i in hidden_layers:
                hidden[i] = x[:, n_ctx:n_ctx + M * n_tgt].reshape(
                    B * M, n_tgt, x.shape[-1])
        if multiway:
            pred = self.proj(self.norm(x[:, n_ctx:]))
            query_pred = self.query_proj(self.query_norm(queries))
        else:
            x = self.proj(self.norm(x[:, n_ctx:]))  # [B, M*N_tgt + R, D_in]
            pred, query_pred = x[:, :M * n_tgt], x[:, M * n_tgt:]
        pred = pred.reshape(B * M, n_tgt, pred.shape[-1])
        return pred, query_pred if n_query else None, hidden
