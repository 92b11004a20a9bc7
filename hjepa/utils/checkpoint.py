"""Turning a pretraining checkpoint into a backbone checkpoint."""
import os
import os.path as osp
from typing import Dict

import torch

#: Where each encoder's weights sit in an ``HJEPA`` model's state dict.
ENCODER_PREFIXES = {'target': 'target_encoder.', 'context': 'backbone.'}


def extract_encoder(state_dict: Dict[str, torch.Tensor],
                    encoder: str = 'target',
                    prefix: str = 'backbone.') -> Dict[str, torch.Tensor]:
    """One encoder's weights from an ``HJEPA`` state dict, under ``prefix``.

    Args:
        state_dict: The model's state dict (``checkpoint['state_dict']``).
        encoder: ``'target'`` (the EMA encoder, the one to transfer) or
            ``'context'`` (the encoder the optimizer trained).
        prefix: Put before every key of the result; ``'backbone.'`` is what
            mmdet and mmseg models, and ``init_cfg=dict(type='Pretrained',
            prefix='backbone.')``, expect.

    Returns:
        ``{prefix + name: tensor}`` for every tensor of the encoder.

    Raises:
        ValueError: if ``encoder`` is unknown, or the state dict holds no key
            of that encoder.
    """
    if encoder not in ENCODER_PREFIXES:
        raise ValueError(f'encoder {encoder!r} must be one of '
                         f'{sorted(ENCODER_PREFIXES)}')
    source = ENCODER_PREFIXES[encoder]
    out = {
        prefix + k[len(source):]: v
        for k, v in state_dict.items() if k.startswith(source)
    }
    if not out:
        found = sorted({k.split('.')[0] for k in state_dict})
        raise ValueError(
            f'no {encoder} encoder keys (starting with {source!r}) in the '
            f'checkpoint; its top-level names are {found}: expected an '
            'HJEPA pretraining checkpoint')
    return out


def convert_pretrain_checkpoint(src: str,
                                dst: str,
                                encoder: str = 'target',
                                prefix: str = 'backbone.') -> dict:
    """Write the backbone checkpoint of the pretraining checkpoint ``src``.

    ``dst`` holds ``{'state_dict': ..., 'meta': ...}`` with the encoder's
    weights under ``prefix``, and loads with ``torch.load(...,
    weights_only=True)``.

    Returns:
        The checkpoint written.
    """
    # Pretraining checkpoints hold mmengine's log buffers; this module
    # allows exactly their types for safe loading.
    import hjepa.engine.hooks.safe_checkpoint_hook  # noqa: F401
    ckpt = torch.load(src, map_location='cpu', weights_only=True)
    state_dict = ckpt.get('state_dict', ckpt)
    meta = dict(
        source=osp.abspath(src),
        encoder=encoder,
        source_epoch=ckpt.get('meta', {}).get('epoch'),
        source_iter=ckpt.get('meta', {}).get('iter'))
    out = dict(
        state_dict=extract_encoder(state_dict, encoder, prefix), meta=meta)
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    torch.save(out, dst)
    return out


def check_backbone_checkpoint(path: str, prefix: str = 'backbone.') -> None:
    """Refuse a checkpoint that ``init_cfg=dict(type='Pretrained',
    prefix=prefix)`` would load wrongly.

    An unconverted pretraining checkpoint also holds ``backbone.*`` keys, the
    *context* encoder's, and would load without a warning.

    Raises:
        ValueError: naming the file, if it holds ``target_encoder.*`` keys
            (a pretraining checkpoint: convert it first) or no key under
            ``prefix``.
    """
    import hjepa.engine.hooks.safe_checkpoint_hook  # noqa: F401
    ckpt = torch.load(path, map_location='cpu', weights_only=True)
    keys = list(ckpt.get('state_dict', ckpt))
    if any(k.startswith(ENCODER_PREFIXES['target']) for k in keys):
        raise ValueError(
            f'{path} is a pretraining checkpoint (it holds target_encoder.* '
            'keys); convert it with tools/model_converters/'
            'hjepa_to_backbone.py, or its backbone.* keys, the context '
            'encoder, would load')
    if not any(k.startswith(prefix) for k in keys):
        raise ValueError(f'{path} holds no {prefix}* keys; expected a '
                         'checkpoint from hjepa_to_backbone.py')
