"""Loading checkpoints safely; a pretraining checkpoint -> a backbone one.

Since torch 2.6 ``torch.load`` unpickles only allow-listed types. mmengine
0.10 checkpoints hold its ``HistoryBuffer`` (log history), whose pickled
state carries its statistics methods, pickled through ``builtins.getattr``:
allowing ``getattr`` would let a crafted file reach arbitrary attributes.
So ``SafeCheckpointHook`` saves the buffers as
:class:`MethodFreeHistoryBuffer` (the methods are the defaults, restored on
load), and importing this module allows exactly the remaining types
(:data:`SAFE_CHECKPOINT_GLOBALS`): ``HistoryBuffer``, that subclass, and the
numpy array and scalar constructors. :func:`load_checkpoint` loads with
``weights_only=True``.
"""
import os
import os.path as osp
from typing import Dict, Optional, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer


class MethodFreeHistoryBuffer(HistoryBuffer):
    """A ``HistoryBuffer`` that pickles its data but not its methods."""

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop('statistics_methods', None)
        return state


def _numpy_globals() -> list:
    try:  # numpy >= 2
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy 1.x
        from numpy.core.multiarray import _reconstruct, scalar
    return [_reconstruct, scalar, np.ndarray, np.dtype] + [
        type(np.dtype(t))
        for t in (np.float64, np.float32, np.int64, np.int32, np.bool_)
    ]


SAFE_CHECKPOINT_GLOBALS = [HistoryBuffer, MethodFreeHistoryBuffer
                           ] + _numpy_globals()
# Checkpoints written before the class moved here name it by its old module.
_OLD_PATHS = [(MethodFreeHistoryBuffer, 'hjepa.engine.hooks.'
               'safe_checkpoint_hook.MethodFreeHistoryBuffer')]
if hasattr(torch.serialization, 'add_safe_globals'):  # pairs: torch >= 2.5
    torch.serialization.add_safe_globals(SAFE_CHECKPOINT_GLOBALS + _OLD_PATHS)


def load_checkpoint(path: str,
                    map_location: Union[str, torch.device] = 'cpu') -> dict:
    """``torch.load(path, weights_only=True)``, with the types that H-JEPA
    and mmengine checkpoints hold allowed (see the module docstring)."""
    return torch.load(path, map_location=map_location, weights_only=True)


#: Layout version of the ``HJEPA`` state dict this code writes (stored in a
#: checkpoint's ``meta['hjepa_format']``). 1: the per-level heads of the
#: window levels were a ``LevelProjectionNeck`` (``neck.heads.{l}.*``);
#: 2: the head owns them (``head.projs.{l}.*``).
CHECKPOINT_FORMAT = 2
_RENAMES = {1: [('neck.heads.', 'head.projs.')]}


def migrate_state_dict(state_dict: Dict[str, torch.Tensor],
                       prefix: str = '',
                       version: Optional[int] = None) -> int:
    """Rename the keys of an older ``HJEPA`` layout in place.

    Args:
        state_dict: A model's state dict (or a larger one holding it).
        prefix: Where the model's keys start in ``state_dict``.
        version: Layout of ``state_dict``; found from its keys when None
            (``neck.heads.*`` means 1).

    Returns:
        The version it was in.
    """
    if version is None:
        old = prefix + 'neck.heads.'
        version = 1 if any(k.startswith(old) for k in state_dict) else \
            CHECKPOINT_FORMAT
    if not 1 <= version <= CHECKPOINT_FORMAT:
        raise ValueError(f'checkpoint layout version {version} is not one '
                         f'this code reads (1 to {CHECKPOINT_FORMAT}); '
                         'update H-JEPA to load it')
    for v in range(version, CHECKPOINT_FORMAT):
        for old, new in _RENAMES[v]:
            for key in [k for k in state_dict if k.startswith(prefix + old)]:
                state_dict[prefix + new + key[len(prefix + old):]] = \
                    state_dict.pop(key)
    return version


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
    ckpt = load_checkpoint(src)
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
    ckpt = load_checkpoint(path)
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
