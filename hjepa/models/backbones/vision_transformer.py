"""The H-JEPA Vision Transformer encoder."""
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from hjepa.registry import MODELS
from ..utils.layers import (TransformerBlock, gather_tokens, init_vit_weights,
                            rescale_blocks, run_block)
from ..utils.pos_embed import sincos_2d


@MODELS.register_module()
class HJEPAViT(BaseModule):
    """Vision Transformer that can encode a subset of its patch tokens.

    Patch embedding, fixed 2-D sine-cosine position embedding, pre-norm
    blocks on fused ``scaled_dot_product_attention`` and no class token. The
    JEPA context encoder runs it on the visible tokens only
    (``forward(x, idx)``); the target encoder on all of them.

    Args:
        arch: One of ``tiny``, ``small``, ``base``, ``large``, ``huge``, or a
            dict with ``embed_dims``, ``num_layers``, ``num_heads`` and
            optionally ``mlp_ratio``. Keys given next to a name override it:
            ``dict(name='tiny', num_layers=6)``.
        img_size: Input size the position embedding is built for; other
            sizes divisible by the patch size work too.
        patch_size: Side of a square patch.
        in_channels: Input channels.
        out_indices: Blocks whose outputs :meth:`forward` returns; negative
            values count from the end.
        out_type: ``'tokens'`` for [B, N, D] or ``'featmap'`` for
            [B, D, H/p, W/p] (all tokens only).
        final_norm: Apply a LayerNorm to the last block's output.
        qkv_bias: Bias in the attention's qkv projection.
        drop_path_rate: Stochastic depth of the last block, linear in depth.
        with_cp: Activation checkpointing of every block when training
            (recompute in the backward pass; less memory, more compute).
        init_cfg: mmengine initialisation config, e.g. a ``Pretrained`` one.
    """

    arch_zoo: Dict[str, Dict[str, Union[int, float]]] = {
        'tiny': dict(embed_dims=192, num_layers=12, num_heads=3),
        'small': dict(embed_dims=384, num_layers=12, num_heads=6),
        'base': dict(embed_dims=768, num_layers=12, num_heads=12),
        'large': dict(embed_dims=1024, num_layers=24, num_heads=16),
        'huge': dict(embed_dims=1280, num_layers=32, num_heads=16),
    }

    def __init__(self,
                 arch: Union[str, dict] = 'base',
                 img_size: Union[int, Tuple[int, int]] = 224,
                 patch_size: int = 16,
                 in_channels: int = 3,
                 out_indices: Union[int, Sequence[int]] = -1,
                 out_type: str = 'tokens',
                 final_norm: bool = True,
                 qkv_bias: bool = True,
                 drop_path_rate: float = 0.0,
                 with_cp: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.with_cp = with_cp
        settings = self._parse_arch(arch)
        self.embed_dims = int(settings['embed_dims'])
        self.num_layers = int(settings['num_layers'])
        self.num_heads = int(settings['num_heads'])
        mlp_ratio = float(settings.get('mlp_ratio', 4.0))

        self.img_size = (img_size, img_size) if isinstance(
            img_size, int) else tuple(img_size)
        if any(s % patch_size for s in self.img_size):
            raise ValueError(f'img_size {self.img_size} must be divisible by '
                             f'patch_size {patch_size}')
        self.patch_size = patch_size
        self.grid_size = (self.img_size[0] // patch_size,
                          self.img_size[1] // patch_size)
        self.num_patches = self.grid_size[0] * self.grid_size[1]
        if out_type not in ('tokens', 'featmap'):
            raise ValueError(
                f"out_type {out_type!r} must be 'tokens' or 'featmap'")
        self.out_type = out_type

        if isinstance(out_indices, int):
            out_indices = [out_indices]
        self.out_indices = []
        for i in out_indices:
            j = i + self.num_layers if i < 0 else i
            if not 0 <= j < self.num_layers:
                raise ValueError(f'out index {i} is out of range for '
                                 f'{self.num_layers} layers')
            self.out_indices.append(j)

        self.patch_embed = nn.Conv2d(
            in_channels, self.embed_dims, patch_size, stride=patch_size)
        self.register_buffer(
            'pos_embed',
            sincos_2d(self.embed_dims, self.grid_size).unsqueeze(0),
            persistent=False)  # [1, N, D]
        dpr = torch.linspace(0, drop_path_rate, self.num_layers).tolist()
        self.blocks = nn.ModuleList([
            TransformerBlock(self.embed_dims, self.num_heads, mlp_ratio,
                             qkv_bias, dpr[i]) for i in range(self.num_layers)
        ])
        self.norm = nn.LayerNorm(
            self.embed_dims, eps=1e-6) if final_norm else nn.Identity()

    def _parse_arch(self, arch: Union[str, dict]) -> dict:
        if isinstance(arch, str):
            arch = dict(name=arch)
        arch = dict(arch)
        name = arch.pop('name', None)
        if name is not None:
            if name not in self.arch_zoo:
                raise ValueError(f'unknown ViT arch {name!r}; expected one of '
                                 f'{sorted(self.arch_zoo)} or a dict')
            arch = {**self.arch_zoo[name], **arch}
        missing = {'embed_dims', 'num_layers', 'num_heads'} - set(arch)
        if missing:
            raise ValueError(f'ViT arch {arch} lacks keys {sorted(missing)}')
        return arch

    def init_weights(self) -> None:
        if self.init_cfg is not None:
            super().init_weights()
            return
        self.apply(init_vit_weights)
        # As a linear layer (MAE): with the 0.02-std init of the other
        # layers, small patches give content features far weaker than the
        # fixed position embedding, and the predictor learns positions.
        w = self.patch_embed.weight.data
        nn.init.xavier_uniform_(w.view(w.shape[0], -1))
        nn.init.zeros_(self.patch_embed.bias)
        rescale_blocks(self.blocks)

    def get_layer_depth(self,
                        param_name: str,
                        prefix: str = '') -> Tuple[int, int]:
        """Depth of a parameter for layer-wise learning-rate decay.

        The patch embedding is depth 0, block ``i`` depth ``i + 1``, and the
        final norm and everything outside the backbone (names without
        ``prefix``: necks, heads) the last depth, ``num_layers + 1``.

        Args:
            param_name: Parameter name, e.g.
                ``'backbone.blocks.3.mlp.fc1.weight'``.
            prefix: Prefix of the backbone's parameters in ``param_name``.

        Returns:
            The parameter's depth and the number of depths
            (``num_layers + 2``).
        """
        num_depths = self.num_layers + 2
        if not param_name.startswith(prefix):
            return num_depths - 1, num_depths
        name = param_name[len(prefix):]
        if name.startswith(('patch_embed', 'pos_embed')):
            return 0, num_depths
        if name.startswith('blocks.'):
            return int(name.split('.')[1]) + 1, num_depths
        return num_depths - 1, num_depths

    def position_embedding(self, grid_size: Tuple[int, int]) -> torch.Tensor:
        """Position embedding [1, H*W, D] for a patch grid of ``grid_size``."""
        if tuple(grid_size) == self.grid_size:
            return self.pos_embed
        return sincos_2d(self.embed_dims,
                         grid_size).to(self.pos_embed.device).unsqueeze(0)

    def forward(
            self,
            x: torch.Tensor,
            idx: Optional[torch.Tensor] = None,
            out_indices: Optional[Sequence[int]] = None,
            idx_mask: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor]:
        """Encode images, optionally keeping only some patch tokens.

        Args:
            x: Images of shape [B, C, H, W].
            idx: Indices of the patch tokens to encode, [B, K], row-major
                over the patch grid; None encodes all of them.
            out_indices: Blocks to return for this call (non-negative),
                instead of the configured ``out_indices``.
            idx_mask: [B, K], True for the tokens of ``idx`` to attend to;
                the others are padding (their outputs mean nothing).

        Returns:
            One tensor per ``out_indices``: [B, K, D] tokens, or
            [B, D, H/p, W/p] maps when ``out_type='featmap'``.
        """
        x = self.patch_embed(x)  # [B, D, h, w]
        grid = x.shape[-2:]
        x = x.flatten(2).transpose(1, 2)  # [B, N, D]
        x = x + self.position_embedding(grid)
        x = gather_tokens(x, idx)  # [B, K, D]
        if idx is not None and self.out_type == 'featmap':
            raise ValueError("out_type='featmap' needs all tokens, got idx")
        mask = None
        if idx_mask is not None:
            if idx is None or idx_mask.shape != idx.shape or \
                    idx_mask.dtype != torch.bool:
                raise ValueError(
                    f'idx_mask ({idx_mask.dtype}, shape '
                    f'{tuple(idx_mask.shape)}) must be a bool mask with idx '
                    'of the same shape, got idx of shape '
                    f'{None if idx is None else tuple(idx.shape)}')
            mask = idx_mask[:, None, None, :]  # keys, [B, 1, 1, K]

        wanted = self.out_indices if out_indices is None else sorted(
            out_indices)
        outs = []
        for i in range(wanted[-1] + 1):
            x = run_block(self.blocks[i], x, mask, with_cp=self.with_cp)
            if i == self.num_layers - 1:
                x = self.norm(x)
            if i in wanted:
                outs.append(self._format(x, grid))
        return tuple(outs)

    def _format(self, x: torch.Tensor, grid: Tuple[int, int]) -> torch.Tensor:
        if self.out_type == 'tokens':
            return x
        B, _, D = x.shape
        return x.transpose(1, 2).reshape(B, D, *grid)  # [B, D, h, w]
