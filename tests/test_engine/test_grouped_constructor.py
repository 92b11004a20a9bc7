"""Few optimizer groups, every parameter's hyperparameters unchanged."""
import torch.nn as nn
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
