"""The narrow ViT that predicts target-block representations."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from hjepa.registry import MODELS
from ..utils.layers import (TransformerBlock, gather_tokens, init_vit_weights,
                            rescale_blocks)
from ..utils.pos_embed import sincos_2d


@MODELS.register_module()
class HJEPAPredictor(BaseModule):
    """Predicts the encoder's tokens at target positions from the context.

    Context tokens are projected to the predictor's (narrower) width and get
    position embeddings; every target block adds one learned mask token per
    target position, carrying that position's embedding. The context is
    repeated once per target block, so all blocks of a batch are predicted
    in one pass of shape [B * M, N_ctx + N_tgt, D_pred].

    Args:
        in_dims: Width of the encoder tokens it reads and predicts.
        embed_dims: Width of the predictor.
        num_layers: Depth of the predictor.
        num_heads: Attention heads.
        grid_size: ``(H, W)`` of the patch grid (an int for square).
        mlp_ratio: MLP hidden width over ``embed_dims``.
        drop_path_rate: Stochastic depth of the last block.
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
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.grid_size = (grid_size, grid_size) if isinstance(
            grid_size, int) else tuple(grid_size)
        self.in_dims = in_dims
        self.embed_dims = embed_dims
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

    def init_weights(self) -> None:
        if self.init_cfg is not None:
            super().init_weights()
            return
        self.apply(init_vit_weights)
        nn.init.trunc_normal_(self.mask_token, std=0.02)
        rescale_blocks(self.blocks)

    def position_embedding(self, grid_size) -> torch.Tensor:
        """Position embedding [1, H*W, D_pred] for a patch grid."""
        if grid_size is None or tuple(grid_size) == self.grid_size:
            return self.pos_embed
        return sincos_2d(self.embed_dims, tuple(grid_size)).to(
            self.pos_embed.device).unsqueeze(0)

    def forward(self,
                context: torch.Tensor,
                context_idx: torch.Tensor,
                target_idx: torch.Tensor,
                grid_size: Optional[Tuple[int, int]] = None) -> torch.Tensor:
        """Predict the target tokens.

        Args:
            context: Encoded context tokens [B, N_ctx, D_in].
            context_idx: Their patch indices [B, N_ctx].
            target_idx: Patch indices of M target blocks [B, M, N_tgt].
            grid_size: ``(H, W)`` of the patch grid the indices refer to;
                defaults to the configured one.

        Returns:
            Predictions [B * M, N_tgt, D_in], sample-major (the M blocks of
            sample 0 first).
        """
        B, M, n_tgt = target_idx.shape
        pos = self.position_embedding(grid_size).expand(B, -1, -1)
        x = self.embed(context) + gather_tokens(pos, context_idx)
        x = x.repeat_interleave(M, dim=0)  # [B*M, N_ctx, D_pred]

        tgt_pos = gather_tokens(pos, target_idx.flatten(1))  # [B, M*N_tgt, D]
        tgt = self.mask_token + tgt_pos.view(B * M, n_tgt, -1)
        x = torch.cat([x, tgt.to(x.dtype)], dim=1)
        for block in self.blocks:
            x = block(x)
        x = self.norm(x[:, -n_tgt:])  # [B*M, N_tgt, D_pred]
        return self.proj(x)  # [B*M, N_tgt, D_in]
