"""Feature extraction from a model over a data loader."""
from typing import Tuple

import torch
from mmengine.model import is_model_wrapper
from mmengine.utils import ProgressBar


@torch.no_grad()
def extract_features(model, dataloader, encoder: str = 'target',
                     progress: bool = False
                     ) -> Tuple[torch.Tensor, torch.Tensor]:
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
