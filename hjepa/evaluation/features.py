"""Feature extraction from a model over a data loader."""
from typing import Callable, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.utils import ProgressBar

from hjepa.utils.dist import gather_in_order, unwrap_model

#: Poolings of :func:`encode`.
POOLINGS = ('avg', 'cat4', 'tokens')
#: Layers ``cat4`` concatenates (fewer if the encoder is shallower).
NUM_CAT_LAYERS = 4

Features = Union[torch.Tensor, Tuple[torch.Tensor, ...]]


def cat_token_means(layers: Sequence[torch.Tensor]) -> torch.Tensor:
    """``cat4``: every layer's token average, side by side.

    Args:
        layers: Tokens [B, N, D] of each layer.

    Returns:
        [B, len(layers) * D], shallowest layer first.
    """
    return torch.cat([t.mean(1) for t in layers], dim=1)


def _layer_indices(num_layers: int, pooling: str,
                   out_layers: Optional[Sequence[int]]) -> list:
    if out_layers is None:
        first = num_layers - (NUM_CAT_LAYERS if pooling == 'cat4' else 1)
        return list(range(max(first, 0), num_layers))
    layers = []
    for i in out_layers:
        j = i + num_layers if i < 0 else i
        if not 0 <= j < num_layers:
            raise ValueError(f'out layer {i} is out of range for an encoder '
                             f'of {num_layers} layers')
        layers.append(j)
    if not layers:
        raise ValueError('out_layers is empty; give None or block indices')
    return sorted(set(layers))


def _encoder(model, encoder: Union[str, nn.Module]) -> nn.Module:
    if isinstance(encoder, nn.Module):
        return encoder
    if encoder not in ('target', 'context'):
        raise ValueError(f"encoder {encoder!r} must be 'target' or 'context'")
    return model.target_encoder if encoder == 'target' else model.backbone


def encode(model,
           inputs: torch.Tensor,
           encoder: Union[str, nn.Module] = 'target',
           pooling: str = 'avg',
           out_layers: Optional[Sequence[int]] = None) -> Features:
    """Features of normalised images from one encoder of an HJEPA model.

    Args:
        model: An HJEPA model (unwrapped).
        inputs: Normalised images [B, C, H, W].
        encoder: ``'target'`` or ``'context'``, or an encoder module of the
            same kind (e.g. a freshly initialised one) to run instead.
        pooling: ``'avg'``: token average [B, D] (``model.extract_feat``);
            ``'cat4'``: the token averages of the last 4 layers (fewer if
            the encoder is shallower) side by side [B, 4 * D], as the
            protocols' ``cat4``; ``'tokens'``: the patch tokens [B, N, D].
        out_layers: Blocks to read (negative from the end), in place of the
            last one (the last 4 for ``cat4``). ``avg`` and ``tokens`` then
            give a tuple, one tensor per block in increasing depth; ``cat4``
            concatenates their averages [B, len(out_layers) * D]. Only the
            last block's output is layer-normalised.

    Returns:
        A tensor, or a tuple of them (``out_layers`` with ``avg`` or
        ``tokens``).
    """
    if pooling not in POOLINGS:
        raise ValueError(f'pooling {pooling!r} must be one of {POOLINGS}')
    net = _encoder(model, encoder)
    if pooling == 'avg' and out_layers is None:
        return net(inputs)[-1].mean(1)  # model.extract_feat
    layers = _layer_indices(net.num_layers, pooling, out_layers)
    outs = net(inputs, out_indices=layers)  # per layer [B, N, D]
    if pooling == 'cat4':
        return cat_token_means(outs)
    if pooling == 'avg':
        outs = tuple(t.mean(1) for t in outs)  # per layer [B, D]
    return tuple(outs) if out_layers is not None else outs[-1]


def _cat(feats: list) -> Features:
    if isinstance(feats[0], tuple):
        return tuple(torch.cat(parts) for parts in zip(*feats))
    return torch.cat(feats)


@torch.no_grad()
def extract_features(
    model,
    dataloader,
    encoder: Union[str, nn.Module] = 'target',
    progress: bool = False,
    pooling: str = 'avg',
    out_layers: Optional[Sequence[int]] = None
) -> Tuple[Features, torch.Tensor]:
    """Features and labels of every sample of a loader: the one feature
    path of the test loops, the protocols, the online k-NN hook and
    :class:`hjepa.apis.FeatureExtractor`.

    Args:
        model: An HJEPA model (or a wrapper of one); its data preprocessor
            prepares the batches.
        dataloader: Yields batches its data preprocessor understands.
        encoder: ``'target'`` or ``'context'``, or an encoder module to run
            instead (see :func:`encode`).
        progress: Show a progress bar.
        pooling: ``'avg'``, ``'cat4'`` or ``'tokens'``; see :func:`encode`.
        out_layers: Blocks to read; see :func:`encode`.

    Returns:
        Features (average-pooled [N, D] by default; see :func:`encode`)
        and labels [N], on the CPU, in float32.
    """
    model = unwrap_model(model)
    net = _encoder(model, encoder)
    was_training = model.training, net.training
    model.eval()
    net.eval()
    feats, labels = [], []
    bar = ProgressBar(len(dataloader.dataset)) if progress else None
    for batch in dataloader:
        data = model.data_preprocessor(batch, False)
        out = encode(model, data['inputs'], net, pooling, out_layers)
        feats.append(
            tuple(
                t.float().cpu()
                for t in out) if isinstance(out, tuple) else out.float().cpu())
        labels.append(data['data_samples'].cpu())
        if bar is not None:
            bar.update(len(labels[-1]))
    model.train(was_training[0])
    net.train(was_training[1])
    return _cat(feats), torch.cat(labels)


def gather_features(
    model,
    dataloader,
    encoder: Union[str, nn.Module] = 'target',
    pooling: str = 'avg',
    out_layers: Optional[Sequence[int]] = None,
    progress: bool = False
) -> Tuple[Optional[torch.Tensor], Optional[torch.Tensor]]:
    """:func:`extract_features` of a whole dataset read by every rank (each
    its share, through the loader's distributed sampler), stacked in
    dataset order on rank 0; ``(None, None)`` on the other ranks. Streams:
    only features are kept, never images.

    ``pooling`` must give one tensor per sample (not a tuple).
    """
    x, y = extract_features(model, dataloader, encoder, progress, pooling,
                            out_layers)
    if isinstance(x, tuple):
        raise ValueError('gather_features needs one tensor per sample; '
                         f'pooling {pooling!r} with out_layers {out_layers} '
                         'gives a tuple')
    return gather_pairs(x, y, len(dataloader.dataset))


def gather_pairs(
        x: torch.Tensor, y: torch.Tensor,
        size: int) -> Tuple[Optional[torch.Tensor], Optional[torch.Tensor]]:
    """Every rank's rows of ``x`` and ``y`` (its share of a dataset of
    ``size`` samples) stacked in dataset order on rank 0; ``(None, None)``
    on the other ranks."""
    rows = gather_in_order(list(zip(x, y)), size)
    if rows is None:  # not rank 0
        return None, None
    return torch.stack([r[0] for r in rows]), torch.stack([r[1] for r in rows])


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
