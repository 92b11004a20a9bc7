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

Every entry point that loads weights goes through :func:`read_checkpoint`
(errors that name the file) and, for a model, :func:`load_model_weights`
(strict about the evaluated encoder) or :func:`check_model_checkpoint`
(strict about the whole model, before resuming).
"""
import os
import os.path as osp
import pickle
from typing import Dict, List, Optional, Tuple, Union

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


def allow_checkpoint_types() -> None:
    """Allow-list :data:`SAFE_CHECKPOINT_GLOBALS` for ``torch.load(...,
    weights_only=True)`` (torch >= 2.5; idempotent). Called by
    :func:`load_checkpoint` and by ``register_all_modules`` (before
    mmengine's own ``torch.load`` resumes a run); importing this module
    changes nothing."""
    if hasattr(torch.serialization, 'add_safe_globals'):
        torch.serialization.add_safe_globals(SAFE_CHECKPOINT_GLOBALS +
                                             _OLD_PATHS)


def load_checkpoint(path: str,
                    map_location: Union[str, torch.device] = 'cpu') -> dict:
    """``torch.load(path, weights_only=True)``, with the types that H-JEPA
    and mmengine checkpoints hold allowed (see the module docstring)."""
    allow_checkpoint_types()
    return torch.load(path, map_location=map_location, weights_only=True)


class CheckpointError(ValueError):
    """A checkpoint that cannot be read, or does not fit the model."""


def read_checkpoint(path: str,
                    map_location: Union[str, torch.device] = 'cpu') -> dict:
    """:func:`load_checkpoint`, with errors that name the file.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        CheckpointError: if it is not a file, is truncated or not a PyTorch
            file, holds objects that safe loading does not allow (a pickled
            function, say), or is not a dict.
    """
    if not osp.exists(path):
        raise FileNotFoundError(f'checkpoint {path} does not exist')
    if not osp.isfile(path):
        raise CheckpointError(f'checkpoint {path} is not a file')
    try:
        ckpt = load_checkpoint(path, map_location)
    except pickle.UnpicklingError as e:
        lines = [line for line in str(e).splitlines() if 'GLOBAL' in line]
        if lines:
            raise CheckpointError(
                f'cannot read checkpoint {path}: it holds objects that safe '
                f'loading (weights_only=True) does not allow ({lines[0]}); '
                'only load files from a source you trust') from None
        raise CheckpointError(_unreadable(path, e)) from None
    except (RuntimeError, EOFError, KeyError, ValueError, OSError) as e:
        raise CheckpointError(_unreadable(path, e)) from None
    if not isinstance(ckpt, dict):
        raise CheckpointError(
            f'checkpoint {path} holds a {type(ckpt).__name__}, expected a '
            'dict (a state dict, or one with a state_dict key)')
    return ckpt


def _unreadable(path: str, error: Exception) -> str:
    detail = str(error).strip().splitlines()
    detail = detail[-1] if detail else type(error).__name__
    return (f'cannot read checkpoint {path}: truncated or not a PyTorch file '
            f'({type(error).__name__}: {detail})')


#: Layout version of the ``HJEPA`` state dict this code writes (stored in a
#: checkpoint's ``meta['hjepa_format']``). 1: the per-level heads of the
#: window levels were a ``LevelProjectionNeck`` (``neck.heads.{l}.*``);
#: 2: the head owns them (``head.projs.{l}.*``); 3: one training-step
#: counter, the model's ``num_steps`` (the data preprocessor kept its own
#: copy, ``data_preprocessor.num_steps``, always equal to it).
CHECKPOINT_FORMAT = 3
_RENAMES = {1: [('neck.heads.', 'head.projs.')], 2: []}
_DROPPED = {1: [], 2: ['data_preprocessor.num_steps']}


def migrate_state_dict(state_dict: Dict[str, torch.Tensor],
                       prefix: str = '',
                       version: Optional[int] = None) -> int:
    """Rename (and drop) the keys of an older ``HJEPA`` layout in place.

    Args:
        state_dict: A model's state dict (or a larger one holding it).
        prefix: Where the model's keys start in ``state_dict``.
        version: Layout of ``state_dict``; found from its keys when None
            (``neck.heads.*`` means 1, ``data_preprocessor.num_steps`` 2).

    Returns:
        The version it was in.
    """
    if version is None:
        old = prefix + 'neck.heads.'
        if any(k.startswith(old) for k in state_dict):
            version = 1
        elif prefix + 'data_preprocessor.num_steps' in state_dict:
            version = 2
        else:
            version = CHECKPOINT_FORMAT
    if not 1 <= version <= CHECKPOINT_FORMAT:
        raise ValueError(f'checkpoint layout version {version} is not one '
                         f'this code reads (1 to {CHECKPOINT_FORMAT}); '
                         'update H-JEPA to load it')
    for v in range(version, CHECKPOINT_FORMAT):
        for old, new in _RENAMES[v]:
            for key in [k for k in state_dict if k.startswith(prefix + old)]:
                state_dict[prefix + new + key[len(prefix + old):]] = \
                    state_dict.pop(key)
        for key in _DROPPED[v]:
            state_dict.pop(prefix + key, None)
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

    Raises:
        ValueError: if ``dst`` is ``src`` (it would overwrite the pretraining
            checkpoint), or ``src`` is not a pretraining checkpoint.
    """
    if osp.abspath(src) == osp.abspath(dst) or (osp.exists(dst)
                                                and osp.samefile(src, dst)):
        raise ValueError(f'the backbone checkpoint {dst} would overwrite the '
                         f'pretraining checkpoint {src}; give another path')
    ckpt, state_dict = _read_model_state(src)
    if _is_backbone_checkpoint(ckpt, list(state_dict)):
        raise CheckpointError(f'{src} is already a backbone checkpoint '
                              '(written by hjepa_to_backbone.py)')
    meta = dict(
        source=osp.abspath(src),
        encoder=encoder,
        source_epoch=ckpt.get('meta', {}).get('epoch'),
        source_iter=ckpt.get('meta', {}).get('iter'))
    out = dict(
        state_dict=extract_encoder(state_dict, encoder, prefix), meta=meta)
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    tmp = dst + '.partial'
    torch.save(out, tmp)
    os.replace(tmp, dst)  # never a half-written dst
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
    keys = list(_state_dict(read_checkpoint(path)))
    if any(k.startswith(ENCODER_PREFIXES['target']) for k in keys):
        raise ValueError(
            f'{path} is a pretraining checkpoint (it holds target_encoder.* '
            'keys); convert it with tools/model_converters/'
            'hjepa_to_backbone.py, or its backbone.* keys, the context '
            'encoder, would load')
    if not any(k.startswith(prefix) for k in keys):
        raise ValueError(f'{path} holds no {prefix}* keys; expected a '
                         'checkpoint from hjepa_to_backbone.py')


def _state_dict(ckpt: dict) -> Dict[str, torch.Tensor]:
    """The model weights of a checkpoint, without DDP's ``module.``."""
    state_dict = ckpt.get('state_dict', ckpt)
    return {
        k[len('module.'):] if k.startswith('module.') else k: v
        for k, v in state_dict.items()
    }


def _mismatches(
        expected: Dict[str, torch.Tensor],
        found: Dict[str,
                    torch.Tensor]) -> Tuple[List[str], List[str], List[str]]:
    """Missing keys, unexpected keys and keys of another shape."""
    missing = [k for k in expected if k not in found]
    unexpected = [k for k in found if k not in expected]
    shapes = [
        k for k in expected
        if k in found and tuple(expected[k].shape) != tuple(found[k].shape)
    ]
    return missing, unexpected, shapes


def _is_backbone_checkpoint(ckpt: dict, keys: List[str]) -> bool:
    """Written by ``hjepa_to_backbone.py``: meta names the encoder, and
    every key is a ``backbone.*`` one."""
    meta = ckpt.get('meta') or {}
    return 'encoder' in meta and bool(keys) and all(
        k.startswith('backbone.') for k in keys)


def _hint(ckpt: dict, found: List[str], model_keys: List[str]) -> str:
    """What file was probably meant."""
    target = ENCODER_PREFIXES['target']
    model_is_hjepa = any(k.startswith(target) for k in model_keys)
    if model_is_hjepa and _is_backbone_checkpoint(ckpt, found):
        source = (ckpt.get('meta') or {}).get('source')
        return ('It is a backbone checkpoint written by tools/model_'
                'converters/hjepa_to_backbone.py; give the pretraining '
                'checkpoint it was converted from' +
                (f' ({source})' if source else '') + '.')
    if not model_is_hjepa and any(k.startswith(target) for k in found):
        return ('It is an H-JEPA pretraining checkpoint; convert it with '
                'tools/model_converters/hjepa_to_backbone.py first.')
    multiway = 'predictor.query_norm.weight'
    saved = multiway in found
    if saved != (multiway in model_keys):
        # the CIFAR configs' predictor became multiway (query tokens on
        # weights of their own); checkpoints from before have no such keys
        return ('The checkpoint was written with model.predictor.multiway='
                f'{saved}, the config has {not saved}; set model.predictor.'
                f'multiway={saved} (the CPU default before the multiway '
                'predictor is configs/hjepa/hjepa_vit-tiny-d6-p4_shared-'
                'predictor_1xb128-22e_cifar10.py).')
    if saved and _query_depth(found) != _query_depth(model_keys):
        # multiway both, the query stream through another number of blocks
        return ('The checkpoint was written with model.predictor.query_depth='
                f'{_query_depth(found)}, the config has '
                f'{_query_depth(model_keys)}; set model.predictor.query_depth='
                f'{_query_depth(found)}.')
    return ('Was it written with another model config (another width, depth '
            'or patch size)?')


def _query_depth(keys: List[str]) -> int:
    """Blocks of a multiway predictor's query stream among ``keys``."""
    prefix = 'predictor.query_blocks.'
    return len({
        k[len(prefix):].split('.', 1)[0]
        for k in keys if k.startswith(prefix)
    })


def _mismatch_error(path: str, what: str, ckpt: dict,
                    expected: Dict[str, torch.Tensor],
                    found: Dict[str, torch.Tensor], ckpt_keys: List[str],
                    model_keys: List[str]) -> Optional[CheckpointError]:
    missing, unexpected, shapes = _mismatches(expected, found)
    if not (missing or unexpected or shapes):
        return None
    parts = []
    if shapes:
        parts.append('of another shape: ' + ', '.join(
            f'{k} (checkpoint {list(found[k].shape)}, model '
            f'{list(expected[k].shape)})' for k in shapes[:3]))
    if missing:
        parts.append('missing: ' + ', '.join(f'{k} {list(expected[k].shape)}'
                                             for k in missing[:3]))
    if unexpected:
        parts.append('unexpected: ' + ', '.join(f'{k} {list(found[k].shape)}'
                                                for k in unexpected[:3]))
    return CheckpointError(
        f'checkpoint {path} does not match the {what}: {len(missing)} '
        f'missing, {len(unexpected)} unexpected and {len(shapes)} '
        f'mismatched keys; ' + '; '.join(parts) + '. ' +
        _hint(ckpt, ckpt_keys, model_keys))


def _read_model_state(path: str) -> Tuple[dict, Dict[str, torch.Tensor]]:
    """The checkpoint and its state dict, migrated to this code's layout."""
    ckpt = read_checkpoint(path)
    state_dict = _state_dict(ckpt)
    migrate_state_dict(
        state_dict, version=(ckpt.get('meta') or {}).get('hjepa_format'))
    return ckpt, state_dict


def load_model_weights(model: torch.nn.Module,
                       path: str,
                       encoder: str = 'target') -> List[str]:
    """Load a checkpoint into ``model``, strict about the evaluated encoder.

    Keys of older layouts are migrated first. The encoder's keys
    (``target_encoder.*`` or ``backbone.*``; ``backbone.*`` for a model
    without a target encoder) must match exactly, keys and shapes; the rest
    of the checkpoint is loaded where it fits.

    Args:
        model: The model (unwrapped).
        path: The checkpoint file.
        encoder: ``'target'`` or ``'context'``.

    Returns:
        The keys outside the encoder that were not loaded (missing from the
        checkpoint, unexpected, or of another shape).

    Raises:
        FileNotFoundError, CheckpointError: see :func:`read_checkpoint`;
            CheckpointError also when the encoder's keys do not match,
            naming the first mismatched keys, their shapes and the file
            that was probably meant.
    """
    if encoder not in ENCODER_PREFIXES:
        raise ValueError(f'encoder {encoder!r} must be one of '
                         f'{sorted(ENCODER_PREFIXES)}')
    ckpt, state_dict = _read_model_state(path)
    own = model.state_dict()
    prefix = ENCODER_PREFIXES[encoder]
    if not any(k.startswith(prefix) for k in own):
        prefix = ENCODER_PREFIXES['context']
    expected = {k: v for k, v in own.items() if k.startswith(prefix)}
    found = {k: v for k, v in state_dict.items() if k.startswith(prefix)}
    what = f'{encoder} encoder ({prefix}*) of the model'
    error = _mismatch_error(path, what, ckpt, expected, found,
                            list(state_dict), list(own))
    if error is None and _is_backbone_checkpoint(ckpt, list(state_dict)) \
            and any(k.startswith(ENCODER_PREFIXES['target']) for k in own):
        # the context keys match, but they are another encoder's weights
        error = CheckpointError(
            f'checkpoint {path} is not a pretraining checkpoint. ' +
            _hint(ckpt, list(state_dict), list(own)))
    if error is not None:
        raise error
    rest = {
        k: v
        for k, v in state_dict.items()
        if k in own and tuple(v.shape) == tuple(own[k].shape)
    }
    model.load_state_dict(rest, strict=False)
    return sorted(set(own) - set(rest)) + sorted(set(state_dict) - set(own))


def check_model_checkpoint(model: torch.nn.Module, path: str) -> dict:
    """Check that a checkpoint holds exactly ``model``'s keys and shapes
    (after migrating older layouts), e.g. before resuming from it.

    Returns:
        The checkpoint.

    Raises:
        FileNotFoundError, CheckpointError: as :func:`load_model_weights`.
    """
    ckpt, state_dict = _read_model_state(path)
    own = model.state_dict()
    error = _mismatch_error(path, 'model of the config', ckpt, own, state_dict,
                            list(state_dict), list(own))
    if error is not None:
        raise error
    return ckpt
