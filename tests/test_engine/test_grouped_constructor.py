"""Few optimizer groups, every parameter's hyperparameters unchanged."""
import logging

import torch.nn as nn
from mmengine.logging import MMLogger
from mmengine.optim import DefaultOptimWrapperConstructor

from hjepa.engine.optimizers import GroupedOptimWrapperConstructor


class Toy(nn.Module):

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)
        self.norm = nn.LayerNorm(4)
        self.frozen = nn.Linear(4, 4)
        self.frozen.requires_grad_(False)
        self.head = nn.Linear(4, 2)


def settings(optimizer):
    return {
        id(p): (g['lr'], g['weight_decay'])
        for g in optimizer.param_groups
        for p in g['params']
    }


def test_two_groups_same_settings():
    wrapper = dict(
        type='OptimWrapper',
        optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05))
    paramwise = dict(
        norm_decay_mult=0.0,
        bias_decay_mult=0.0,
        custom_keys={'head': dict(lr_mult=0.1)})
    model = Toy()
    default = DefaultOptimWrapperConstructor(wrapper,
                                             paramwise)(model).optimizer
    grouped = GroupedOptimWrapperConstructor(wrapper,
                                             paramwise)(model).optimizer
    # decay, no decay, and the head's own lr (a custom key overrides the
    # bias rule in mmengine, so its weight and bias share a group)
    assert len(grouped.param_groups) == 3
    assert len(default.param_groups) > len(grouped.param_groups)
    trained = {id(p) for p in model.parameters() if p.requires_grad}
    assert set(settings(grouped)) == trained
    expected = {k: v for k, v in settings(default).items() if k in trained}
    assert settings(grouped) == expected


def test_frozen_tensors_are_counted_in_one_line_not_warned_one_by_one():
    # mmengine warns per frozen tensor; the constructor says it once
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = MMLogger.get_current_instance()  # where mmengine logs
    wrapper = dict(
        type='OptimWrapper',
        optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05))
    paramwise = dict(norm_decay_mult=0.0)  # add_params runs only with one
    logger.addHandler(handler)
    try:
        GroupedOptimWrapperConstructor(wrapper, paramwise)(Toy())
    finally:
        logger.removeHandler(handler)
    messages = [r.getMessage() for r in records]
    assert not [m for m in messages if 'requires_grad=False' in m]
    counted = [m for m in messages if 'do not require gradients' in m]
    assert len(counted) == 1 and counted[0].startswith('2 parameter tensors')
    # and the filter is gone afterwards: mmengine's own constructor still
    # warns as it did
    logger.addHandler(handler)
    try:
        DefaultOptimWrapperConstructor(wrapper, paramwise)(Toy())
    finally:
        logger.removeHandler(handler)
    assert [r for r in records if 'requires_grad=False' in r.getMessage()]
