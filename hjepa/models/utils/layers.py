"""Transformer building blocks shared by the encoder and the predictor."""
from contextlib import nullcontext
from typing import Callable, NamedTuple, Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.checkpoint import checkpoint

#: Fused attention kernels allowed on a GPU. cuDNN's is left out: it builds
#: an execution plan for every new shape, and the context's length changes
#: from one step to the next. On an H200 (torch 2.11) that cost 2.4 ms of
#: CPU per forward and 5 ms per backward call, 208 of a ViT-B/16 step's
#: 390 ms, while the GPU was busy for 63 (``bare_gpu_mfu.py --profile``).
CUDA_SDPA_BACKENDS = [
    SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH
]


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


class GroupedLayout(NamedTuple):
    """A sequence ``[ctx | block_1 ... block_M | queries]`` whose groups
    attend as :func:`~hjepa.models.heads.predictor.shared_context_mask`
    says, computed group by group instead of through an [L, L] mask.

    Context tokens attend to the context; each block's tokens to the
    context and their own block (the M blocks as M sequences of
    ``n_ctx + block_len`` keys); query tokens to the context and to the
    queries ``query_mask`` [R, n_ctx + R] allows (None: all of them). Each
    group is one mask-free attention call (but the queries' when
    ``query_mask`` is given), so a GPU runs flash attention instead of the
    memory-efficient kernel a mask forces, and no scores are computed for
    the pairs the mask would drop. Same result as the mask, up to float
    rounding.
    """
    n_ctx: int
    num_blocks: int
    block_len: int
    n_query: int = 0
    query_mask: Optional[torch.Tensor] = None

    def attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
               attention) -> torch.Tensor:
        """``attention(q, k, v, mask)`` per group; q, k, v [B, h, L, d]."""
        c, M, n = self.n_ctx, self.num_blocks, self.block_len
        B, h, L, d = q.shape
        e = c + M * n
        if L != e + self.n_query:
            raise ValueError(f'{self} does not fit a sequence of {L} tokens')
        ctx_k, ctx_v = k[:, :, :c], v[:, :, :c]
        out = [attention(q[:, :, :c], ctx_k, ctx_v, None)]

        def per_block(t):  # [B, h, M * n, d] -> [B * M, h, n, d]
            return t[:, :,
                     c:e].unflatten(2, (M, n)).transpose(1, 2).flatten(0, 1)

        def with_context(ctx, t):  # keys of each block: context, then block
            ctx = ctx.unsqueeze(1).expand(B, M, h, c, d).flatten(0, 1)
            return torch.cat([ctx, per_block(t)], 2)

        if M * n:
            blocks = attention(
                per_block(q), with_context(ctx_k, k), with_context(ctx_v, v),
                None)  # [B*M, h, n, d]
            out.append(
                blocks.unflatten(0, (B, M)).transpose(1, 2).flatten(2, 3))
        if self.n_query:
            out.append(
                attention(q[:, :, e:], torch.cat([ctx_k, k[:, :, e:]], 2),
                          torch.cat([ctx_v, v[:, :, e:]], 2), self.query_mask))
        return torch.cat(out, 2)


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

    def forward(self,
                x: torch.Tensor,
                mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Attend over tokens [B, N, C]; ``mask`` [N, N] (or broadcastable
        to [B, heads, N, N]) is True where a query may attend to a key, or a
        :class:`GroupedLayout`."""
        return self.proj(self.attend_qkv(self.qkv(x), mask))

    def attend_qkv(
            self,
            qkv: torch.Tensor,
            mask: Union[torch.Tensor, GroupedLayout,
                        None] = None) -> torch.Tensor:
        """Attention of projected tokens ``qkv`` [B, N, 3C]; the heads'
        outputs concatenated [B, N, C], before the output projection."""
        q, k, v = self.split_heads(qkv)
        return self.merge_heads(self.attend(q, k, v, mask))

    def split_heads(self, qkv: torch.Tensor):
        """``qkv`` [B, N, 3C] -> q, k, v, each [B, heads, N, C/heads]."""
        B, N, C3 = qkv.shape
        qkv = qkv.reshape(B, N, 3, self.num_heads, C3 // 3 // self.num_heads)
        return qkv.permute(2, 0, 3, 1, 4).unbind(0)

    @staticmethod
    def merge_heads(out: torch.Tensor) -> torch.Tensor:
        """Heads' outputs [B, heads, N, C/heads] -> [B, N, C]."""
        B, h, N, d = out.shape
        return out.transpose(1, 2).reshape(B, N, h * d)

    def attend(
            self,
            q: torch.Tensor,
            k: torch.Tensor,
            v: torch.Tensor,
            mask: Union[torch.Tensor, GroupedLayout,
                        None] = None) -> torch.Tensor:
        """Attention of split heads [B, h, N, d] (``mask`` as in
        :meth:`forward`)."""
        if isinstance(mask, GroupedLayout):
            return mask.attend(q, k, v, self._attention)
        return self._attention(q, k, v, mask)

    @classmethod
    def _attention(cls, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                   mask: Optional[torch.Tensor]) -> torch.Tensor:
        if q.device.type == 'cpu' and q.dtype != torch.float32:
            return cls._math_attention(q, k, v, mask)
        backends = (
            sdpa_kernel(CUDA_SDPA_BACKENDS) if q.is_cuda else nullcontext())
        with backends:
            return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)

    @staticmethod
    def _math_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                        mask: Optional[torch.Tensor]) -> torch.Tensor:
        """softmax(q k^T / sqrt(d)) v in low precision, softmax in fp32.

        On CPUs under bf16 autocast, PyTorch's fused attention kernels are
        slower than these two matmuls for the short sequences of small
        images (fused fp32 2.3x and fused bf16 5x slower, forward and
        backward, [128, 3, 64, 64], on an AMD EPYC with AVX-512 BF16;
        ``tools/benchmarks/pretrain_throughput.py`` prints the split).
        """
        attn = (q * q.shape[-1]**-0.5) @ k.transpose(-2, -1)  # [B, h, N, N]
        if mask is not None:
            attn = attn.masked_fill(~mask, float('-inf'))
        attn = attn.float().softmax(-1).to(v.dtype)
        return attn @ v  # [B, h, N, C/h]


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

    def forward(
            self,
            x: torch.Tensor,
            mask: Union[torch.Tensor, GroupedLayout,
                        None] = None) -> torch.Tensor:
        x = x + self.drop_path(self.attn(self.norm1(x), mask))
        return x + self.drop_path(self.mlp(self.norm2(x)))


def multiway_block(
    block: TransformerBlock,
    query_block: TransformerBlock,
    x: torch.Tensor,
    x_q: torch.Tensor,
    n_ctx: int,
    mask: Union[torch.Tensor, GroupedLayout, None] = None,
    query_mask: Optional[torch.Tensor] = None
) -> Tuple[torch.Tensor, torch.Tensor]:
    """One layer of a multiway transformer (VLMo, BEiT-3) whose query
    tokens are a stream of their own.

    ``x`` [B, L, C] (its first ``n_ctx`` tokens the context) goes through
    ``block`` as ``block(x, mask)`` would; the query tokens ``x_q``
    [B, R, C] go through ``query_block``'s norms, projections and MLP and
    attend to the context's keys (``block``'s projections) and their own,
    as ``query_mask`` [R or B x 1 x R, n_ctx + R] allows (True where a query
    may attend; None: all). ``x`` never attends to the queries. This is one
    sequence ``[x | x_q]`` under the mask of
    :func:`~hjepa.models.heads.predictor.shared_context_mask` with the
    queries' rows through their own weights, without the [L + R, L + R]
    scores, the masked pairs or the concatenations of one sequence.

    Returns:
        The new ``x`` and ``x_q``.
    """
    attn, q_attn = block.attn, query_block.attn
    q, k, v = attn.split_heads(attn.qkv(block.norm1(x)))
    qq, kq, vq = q_attn.split_heads(q_attn.qkv(query_block.norm1(x_q)))
    out = attn.attend(q, k, v, mask)
    out_q = attn._attention(qq, torch.cat([k[:, :, :n_ctx], kq], 2),
                            torch.cat([v[:, :, :n_ctx], vq], 2), query_mask)
    x = x + block.drop_path(attn.proj(attn.merge_heads(out)))
    x_q = x_q + query_block.drop_path(q_attn.proj(q_attn.merge_heads(out_q)))
    x = x + block.drop_path(block.mlp(block.norm2(x)))
    x_q = x_q + query_block.drop_path(query_block.mlp(query_block.norm2(x_q)))
    return x, x_q


def run_block(block: Callable, *args, with_cp: bool = False):
    """``block(*args)`` (a :class:`TransformerBlock` with ``x, mask``, or
    :func:`multiway_block` with its arguments), with activation
    checkpointing when asked and a backward pass will follow: the block's
    activations are recomputed in the backward pass instead of being kept
    (less memory, ~1/3 more compute)."""
    if with_cp and torch.is_grad_enabled() and any(
            isinstance(a, torch.Tensor) and a.requires_grad for a in args):
        return checkpoint(block, *args, use_reentrant=False)
    return block(*args)


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
