"""Transformer building blocks shared by the encoder and the predictor."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F


class DropPath(nn.Module):
    """Stochastic depth: drops the whole residual branch per sample."""

    def __init__(self, drop_prob: float = 0.0) -> None:
        super().__init__()
        if not 0.0 <= drop_prob < 1.0:
            raise ValueError(f'drop path rate {drop_prob} must be in [0, 1)')
        self.drop_prob = drop_prob

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.drop_prob == 0.0 or not self.training:
            return x
        keep = 1.0 - self.drop_prob
        shape = (x.shape[0], ) + (1, ) * (x.ndim - 1)
        mask = x.new_empty(shape).bernoulli_(keep)
        return x * mask / keep

    def extra_repr(self) -> str:
        return f'drop_prob={self.drop_prob}'


class Mlp(nn.Module):
    """Two-layer MLP with GELU."""

    def __init__(self, dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden_dim)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Attention(nn.Module):
    """Multi-head self-attention on ``F.scaled_dot_product_attention``."""

    def __init__(self,
                 dim: int,
                 num_heads: int,
                 qkv_bias: bool = True) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(
                f'embed dim {dim} must be divisible by num_heads {num_heads}')
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, C // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # 3 x [B, h, N, C/h]
        if x.device.type == 'cpu' and q.dtype != torch.float32:
            # PyTorch's fused CPU attention is several times faster in fp32
            # than in bf16 (forward + backward, measured on AVX-512/AMX), and
            # autocast would cast fp32 inputs back to bf16.
            with torch.autocast('cpu', enabled=False):
                out = F.scaled_dot_product_attention(q.float(), k.float(),
                                                     v.float()).to(q.dtype)
        else:
            out = F.scaled_dot_product_attention(q, k, v)  # [B, h, N, C/h]
        return self.proj(out.transpose(1, 2).reshape(B, N, C))


class TransformerBlock(nn.Module):
    """Pre-norm transformer block: attention and MLP, each residual."""

    def __init__(self,
                 dim: int,
                 num_heads: int,
                 mlp_ratio: float = 4.0,
                 qkv_bias: bool = True,
                 drop_path: float = 0.0,
                 norm_eps: float = 1e-6) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=norm_eps)
        self.attn = Attention(dim, num_heads, qkv_bias)
        self.norm2 = nn.LayerNorm(dim, eps=norm_eps)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.drop_path = DropPath(
            drop_path) if drop_path > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(self.attn(self.norm1(x)))
        return x + self.drop_path(self.mlp(self.norm2(x)))


def init_vit_weights(module: nn.Module, std: float = 0.02) -> None:
    """Truncated-normal linear weights, zero biases, unit LayerNorm."""
    if isinstance(module, nn.Linear):
        nn.init.trunc_normal_(module.weight, std=std)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


def rescale_blocks(blocks: nn.ModuleList) -> None:
    """Divide each block's output projections by sqrt(2 * layer id).

    Keeps the residual stream's variance from growing with depth (as in
    I-JEPA and BEiT).
    """
    for layer_id, block in enumerate(blocks, start=1):
        block.attn.proj.weight.data.div_((2.0 * layer_id)**0.5)
        block.mlp.fc2.weight.data.div_((2.0 * layer_id)**0.5)


def gather_tokens(x: torch.Tensor,
                  idx: Optional[torch.Tensor]) -> torch.Tensor:
    """Keep the tokens at ``idx`` of every sample.

    Args:
        x: Tokens of shape [B, N, D].
        idx: Token indices of shape [B, K], or None to keep all.

    Returns:
        Tensor of shape [B, K, D].
    """
    if idx is None:
        return x
    return torch.gather(x, 1, idx.unsqueeze(-1).expand(-1, -1, x.shape[-1]))
