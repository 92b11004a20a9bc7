"""The level specifications of :class:`HierarchicalLatentHead`: which kinds
exist, which keys each takes, and the head each level's prediction goes
through (the kinds themselves are described in the head's docstring)."""
import numbers
from typing import Sequence, Tuple, Union

import torch.nn as nn

from ..utils.checks import is_int

LEVEL_KINDS = ('patch', 'region', 'window', 'depth', 'image')


def _grid(i: int, value: Union[int, Sequence[int]]) -> Tuple[int, int]:
    """Level ``i``'s region grid as an ``(h, w)`` pair of ints (``n`` is
    ``(n, n)``); ints from numpy count as ints, bools do not."""
    if is_int(value):
        return int(value), int(value)
    if not isinstance(value, (str, bytes)):
        try:
            h, w = value
        except (TypeError, ValueError):
            pass
        else:
            if is_int(h) and is_int(w):
                return int(h), int(w)
    raise ValueError(f'level {i}: region grid {value!r} must be an int or '
                     'an (h, w) pair of ints')


def check_level(i: int, lv: dict) -> dict:
    """Validate level ``i``'s specification ``lv`` and fill its defaults.

    Returns:
        ``lv`` with its values normalised (a region ``grid`` as an
        ``(h, w)`` pair, ``min_hidden`` a float, ``sample`` an int or
        None, a window ``side``, ints for block indices).

    Raises:
        ValueError: naming the level, the bad value and what was expected.
    """
    kind = lv.get('kind')
    if kind not in LEVEL_KINDS:
        raise ValueError(f'level {i} {lv}: kind must be one of '
                         f'{LEVEL_KINDS}')
    allowed = {'kind', 'norm'} | {
        'region': {'grid', 'center', 'proj', 'min_hidden', 'sample'},
        'window': {'side', 'proj'},
        'patch': {'proj'},
        'depth': {'layer', 'pred_layer'},  # always its own norm and head
        'image': {'hidden'}
    }[kind]
    unknown = set(lv) - allowed
    if unknown:
        raise ValueError(f'level {i} {lv}: unknown keys '
                         f'{sorted(unknown)}; expected {sorted(allowed)}')
    if kind == 'region':
        lv['grid'] = _grid(i, lv.get('grid', 1))
        if min(lv['grid']) < 1:
            raise ValueError(f'level {i}: region grid {lv["grid"]} must '
                             'be at least (1, 1)')
        if lv.get('center', False) and lv['grid'] == (1, 1):
            raise ValueError(f'level {i}: a centred whole-image region '
                             '(grid 1, center=True) has a zero target')
        min_hidden = lv.get('min_hidden', 0.0)
        if isinstance(min_hidden, bool) or not isinstance(
                min_hidden, numbers.Real) or not 0 <= min_hidden <= 1:
            raise ValueError(f'level {i}: min_hidden {min_hidden!r} must '
                             'be a fraction in [0, 1]')
        lv['min_hidden'] = float(min_hidden)
        sample, cells = lv.get('sample'), lv['grid'][0] * lv['grid'][1]
        if sample is not None and (not is_int(sample)
                                   or not 1 <= sample <= cells):
            raise ValueError(f'level {i}: sample {sample!r} must be None '
                             '(every region) or an int in 1..'
                             f'{cells}, the regions of grid {lv["grid"]}')
        lv['sample'] = None if sample is None else int(sample)
    if kind == 'window':
        side = lv.get('side', 2)
        if not is_int(side) or side < 2 or side & (side - 1):
            raise ValueError(f'level {i}: window side {side!r} must be a '
                             'power of 2, >= 2 (1 is the patch level)')
        lv['side'] = int(side)
    if kind == 'image':
        hidden = lv.get('hidden')
        if hidden is not None:
            if not is_int(hidden) or hidden < 1:
                raise ValueError(f'level {i}: hidden {hidden!r} must be '
                                 'a positive int (the MLP\'s width)')
            lv['hidden'] = int(hidden)
    if kind == 'depth':
        for key in ('layer', 'pred_layer'):
            value = lv.get(key)
            if key == 'pred_layer' and value is None:
                continue
            if not is_int(value):
                raise ValueError(f'level {i} {lv}: {key} must be an '
                                 f'integer block index, got {value!r}')
            lv[key] = int(value)
    return lv


def level_head(lv: dict, in_dims: int, pred_dims: int) -> nn.Module:
    """The module a level's prediction goes through before its loss.

    ``depth`` levels read the predictor's hidden state (its own layer norm
    and a ``pred_dims -> in_dims`` linear head), ``image`` levels the
    pooled context tokens (layer norm and an ``in_dims -> hidden ->
    in_dims`` MLP with a GELU; ``hidden`` defaults to ``2 * in_dims``);
    the others a linear head when ``proj`` (default: only ``window``
    levels), else the identity.
    """
    if lv['kind'] == 'depth':  # from the predictor's width
        return nn.Sequential(
            nn.LayerNorm(pred_dims, eps=1e-6), nn.Linear(pred_dims, in_dims))
    if lv['kind'] == 'image':  # from the pooled context tokens
        hidden = lv.get('hidden') or 2 * in_dims
        return nn.Sequential(
            nn.LayerNorm(in_dims, eps=1e-6), nn.Linear(in_dims, hidden),
            nn.GELU(), nn.Linear(hidden, in_dims))
    use = lv.get('proj', lv['kind'] == 'window')
    return nn.Linear(in_dims, in_dims) if use else nn.Identity()
