"""PNG plots of the evaluation report (matplotlib, no display needed)."""
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from matplotlib import colormaps
from matplotlib.figure import Figure


def read_scalars(path: str) -> List[dict]:
    """Rows of an mmengine ``vis_data/scalars.json`` (one JSON per line)."""
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def _series(rows: Sequence[dict], key: str):
    pts = [(r['step'], r[key]) for r in rows if key in r and 'step' in r]
    return [p[0] for p in pts], [p[1] for p in pts]


def plot_training_curves(rows: Sequence[dict], out: str) -> List[str]:
    """Loss per level, effective rank and online k-NN over training.

    Args:
        rows: Scalars of a training run (see :func:`read_scalars`).
        out: PNG path.

    Returns:
        The panels drawn (a run without the monitoring hooks has only the
        loss panel).
    """
    loss_keys = sorted(
        k for r in rows for k in r if k.startswith('loss_level'))
    loss_keys = sorted(set(loss_keys))
    rank_keys = sorted({
        k
        for r in rows
        for k in r if k.startswith('collapse/') and k.endswith('rank')
    })
    knn_keys = sorted(
        {k
         for r in rows
         for k in r if k.startswith('online_knn/top1')})
    panels = [('loss per level (weighted)', loss_keys, 'log'),
              ('effective rank (probe batch)', rank_keys, 'linear'),
              ('online k-NN top-1 (%)', knn_keys, 'linear')]
    panels = [p for p in panels if p[1]]
    fig = Figure(figsize=(5 * max(1, len(panels)), 3.6))
    axes = fig.subplots(1, max(1, len(panels)))
    axes = np.atleast_1d(axes)
    for ax, (title, keys, scale) in zip(axes, panels):
        for key in keys:
            x, y = _series(rows, key)
            ax.plot(
                x,
                y,
                marker='o' if len(x) < 30 else None,
                ms=3,
                label=key.split('/')[-1])
        ax.set_title(title)
        ax.set_xlabel('iteration')
        ax.set_yscale(scale)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    return [p[0] for p in panels]


def plot_embedding(feats: Dict[str, torch.Tensor],
                   labels: torch.Tensor,
                   class_names: Optional[Sequence[str]],
                   out: str,
                   num_samples: int = 2000,
                   seed: int = 0) -> None:
    """t-SNE of features coloured by class, one panel per feature set.

    Args:
        feats: ``{title: [N, D]}``, all rows aligned with ``labels``.
        labels: [N].
        class_names: Legend names, indexed by label.
        out: PNG path.
        num_samples: Samples embedded (evenly spaced).
    """
    from sklearn.manifold import TSNE
    n = min(num_samples, len(labels))
    pick = torch.linspace(0, len(labels) - 1, n).long()
    y = labels[pick].numpy()
    fig = Figure(figsize=(5 * len(feats), 5))
    axes = fig.subplots(1, len(feats))
    axes = np.atleast_1d(axes)
    cmap = colormaps['tab10']
    for ax, (title, x) in zip(axes, feats.items()):
        x = torch.nn.functional.normalize(x[pick].float(), dim=1).numpy()
        emb = TSNE(
            n_components=2, init='pca', perplexity=30,
            random_state=seed).fit_transform(x)
        for c in np.unique(y):
            sel = y == c
            name = class_names[c] if class_names else str(c)
            ax.scatter(
                emb[sel, 0], emb[sel, 1], s=3, color=cmap(c % 10), label=name)
        ax.set_title(f't-SNE: {title}')
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0].legend(markerscale=4, fontsize=7, loc='best')
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def _patch_pixels(indices: torch.Tensor, H: int, W: int, grid_w: int,
                  patch_size: int) -> np.ndarray:
    """Boolean [H, W] map of the pixels of the patches at ``indices``
    (row-major on a grid ``grid_w`` patches wide)."""
    patches = np.zeros((H // patch_size) * grid_w, dtype=bool)
    patches[indices.cpu().numpy()] = True
    return patches.reshape(H // patch_size,
                           grid_w).repeat(patch_size, 0).repeat(patch_size,
                                                                1)[:H, :W]


def plot_masks(images: torch.Tensor, masks: dict, patch_size: int,
               mean: Sequence[float], std: Sequence[float], out: str) -> None:
    """Images with their context patches and target blocks drawn on them.

    Args:
        images: Normalised images [B, 3, H, W].
        masks: A masker's sample: ``context`` [B, N_ctx] and ``targets``
            [B, M, N_tgt] patch indices (and ``context_mask`` [B, N_ctx]
            when the contexts are padded).
        patch_size: Patch side in pixels.
        mean, std: The normalisation to undo.
        out: PNG path.
    """
    B, _, H, W = images.shape
    gw = W // patch_size
    pix = images * torch.tensor(std).view(
        1, 3, 1, 1) + torch.tensor(mean).view(1, 3, 1, 1)
    pix = (pix / 255.0).clamp(0, 1).permute(0, 2, 3, 1).numpy()
    M = masks['targets'].shape[1]
    cmap = colormaps['tab10']
    fig = Figure(figsize=(1.6 * B, 3.4))
    axes = fig.subplots(2, B)
    axes = np.array(axes).reshape(2, B)
    for b in range(B):
        axes[0, b].imshow(pix[b], interpolation='nearest')
        shown = np.zeros((H, W, 4))
        shown[..., 3] = 0.85  # masked out: dark
        ctx = masks['context'][b]
        if 'context_mask' in masks:  # padded contexts
            ctx = ctx[masks['context_mask'][b]]
        shown[_patch_pixels(ctx, H, W, gw, patch_size)] = 0.0
        axes[1, b].imshow(pix[b], interpolation='nearest')
        axes[1, b].imshow(shown, interpolation='nearest')
        for m in range(M):
            overlay = np.zeros((H, W, 4))
            overlay[_patch_pixels(masks['targets'][b, m], H, W, gw,
                                  patch_size)] = (*cmap(m)[:3], 0.45)
            axes[1, b].imshow(overlay, interpolation='nearest')
        for ax in axes[:, b]:
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_ylabel('image', fontsize=8)
    axes[1, 0].set_ylabel('context (clear)\n+ targets', fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def find_training_scalars(checkpoint: Optional[str]) -> Optional[str]:
    """The newest ``*/vis_data/scalars.json`` with training losses beside a
    checkpoint, or None."""
    import glob
    if not checkpoint or not osp.isfile(checkpoint):
        return None
    found = sorted(
        glob.glob(
            osp.join(osp.dirname(checkpoint), '*', 'vis_data',
                     'scalars.json')))
    for path in reversed(found):
        with open(path) as f:
            if any('loss_level0' in line for line in f):
                return path
    return None
