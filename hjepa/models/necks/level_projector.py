"""Per-level projection heads of the hierarchical predictor."""
from typing import List, Optional

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from hjepa.registry import MODELS


@MODELS.register_module()
class LevelProjectionNeck(BaseModule):
    """One projection head per hierarchy level.

    Level 0 (patch-level prediction, I-JEPA's) has none: the predictor's
    output is compared with the targets as it is. Each coarser level maps
    its window-pooled predictions through its own head before they are
    compared with the pooled targets.

    Args:
        in_dims: Token width.
        num_levels: Levels, level 0 included.
        num_layers: 1 for a linear head, 2 for Linear-GELU-Linear.
        init_cfg: mmengine initialisation config.
    """

    def __init__(self,
                 in_dims: int,
                 num_levels: int = 3,
                 num_layers: int = 1,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_levels < 1:
            raise ValueError(f'num_levels {num_levels} must be >= 1')
        if num_layers not in (1, 2):
            raise ValueError(f'num_layers {num_layers} must be 1 or 2')
        self.num_levels = num_levels
        heads: List[nn.Module] = [nn.Identity()]
        for _ in range(1, num_levels):
            if num_layers == 1:
                heads.append(nn.Linear(in_dims, in_dims))
            else:
                heads.append(
                    nn.Sequential(
                        nn.Linear(in_dims, in_dims), nn.GELU(),
                        nn.Linear(in_dims, in_dims)))
        self.heads = nn.ModuleList(heads)

    def forward(self, x: torch.Tensor, level: int) -> torch.Tensor:
        """Project pooled predictions [..., D] of ``level``."""
        return self.heads[level](x)
