"""Feature extraction from a model over a data loader."""
from typing import Callable, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.model import is_model_wrapper
from mmengine.utils import ProgressBar


@torch.no_grad()
def extract_features(
        model,
        dataloader,
        encoder: str = 'target',
        progress: bool = False) -> Tuple[torch.Tensor, torch.Tensor]:
    """Average-pooled features and labels of every sample of a loader.

    Args:
        model: An HJEPA model (or a wrapper of one).
        dataloader: Yields batches its data preprocessor understands.
        encoder: ``'target'`` or ``'context'``.
        progress: Show a progress bar.

    Returns:
        Features [N, D] and labels [N], on the CPU.
    """
    if is_model_wrapper(model):
        model = model.module
    was_training = model.training
    model.eval()
    feats, labels = [], []
    bar = ProgressBar(len(dataloader.dataset)) if progress else None
    for batch in dataloader:
        data = model.data_preprocessor(batch, False)
        feats.append(model.extract_feat(data['inputs'], encoder).float().cpu())
        labels.append(data['data_samples'].cpu())
        if bar is not None:
            bar.update(len(labels[-1]))
    model.train(was_training)
    return torch.cat(feats), torch.cat(labels)


@torch.no_grad()
def batched_forward(module: nn.Module,
                    images: torch.Tensor,
                    fn: Optional[Callable[[torch.Tensor],
                                          torch.Tensor]] = None,
                    batch_size: int = 512) -> torch.Tensor:
    """``fn(x)`` over ``images`` in batches, in eval mode on the module's
    device, concatenated on the CPU.

    Args:
        module: Put in eval mode for the pass, its mode restored after.
        images: [N, C, H, W], any device.
        fn: Maps a batch [B, C, H, W] (on the module's device) to a tensor
            [B, ...]; ``module`` itself by default.
        batch_size: Images per forward pass.

    Returns:
        [N, ...] on the CPU.
    """
    fn = module if fn is None else fn
    device = next(module.parameters()).device
    was_training = module.training
    module.eval()
    out = [fn(x.to(device)).cpu() for x in images.split(batch_size)]
    module.train(was_training)
    return torch.cat(out)
