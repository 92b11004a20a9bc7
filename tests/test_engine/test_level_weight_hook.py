import math

import pytest
import torch
from mmengine.runner import Runner

from hjepa.engine import LevelWeightScheduleHook
from tests.helpers import smoke_config


def test_schedules():
    cosine = LevelWeightScheduleHook()
    assert cosine.factor_at(0, 100) == pytest.approx(1.0)
    assert cosine.factor_at(25, 100) == pytest.approx(
        (1 + math.cos(math.pi / 4)) / 2)
    assert cosine.factor_at(100, 100) == pytest.approx(0.0)
    window = LevelWeightScheduleHook(
        start_factor=0.0,
        end_factor=2.0,
        schedule='linear',
        begin=0.5,
        end=0.75)
    assert window.factor_at(10, 100) == 0.0  # before begin: start_factor
    assert window.factor_at(60, 100) == pytest.approx(0.8)
    assert window.factor_at(90, 100) == 2.0  # after end: end_factor


@pytest.mark.parametrize('kwargs,match', [
    (dict(start_factor=-1.0), 'start_factor'),
    (dict(end_factor=float('nan')), 'end_factor'),
    (dict(schedule='step'), 'schedule'),
    (dict(begin=0.5, end=0.5), 'begin'),
    (dict(levels=[1, 1]), 'levels'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LevelWeightScheduleHook(**kwargs)


def test_hook_in_a_runner_scales_the_coarse_levels(tmp_path, cifar_root):
    """In a real Runner every step's loss uses the patch level's weight
    unchanged and the coarse levels' weights times the schedule's factor
    at that step; afterwards the head has its configured weights back."""
    cfg = smoke_config(tmp_path, cifar_root, 'level_weight_hook_test')
    cfg.train_cfg.max_epochs = 1
    cfg.custom_hooks = [
        dict(type='LevelWeightScheduleHook', schedule='linear')
    ]
    runner = Runner.from_cfg(cfg)
    head = runner.model.head
    base = head.level_weights.clone()
    assert base.numel() == 3 and (base[1:] > 0).all()
    seen = []
    original = head._weigh

    def spy(losses):
        seen.append(head.level_weights.clone())
        return original(losses)

    head._weigh = spy
    runner.train()
    iters = runner.max_iters
    assert len(seen) == iters == 8
    for i, w in enumerate(seen):
        f = 1 - i / iters
        torch.testing.assert_close(w, base * torch.tensor([1.0, f, f]))
    torch.testing.assert_close(head.level_weights, base)


def test_levels_outside_the_head_are_refused(tmp_path, cifar_root):
    cfg = smoke_config(tmp_path, cifar_root, 'level_weight_hook_bad')
    cfg.custom_hooks = [dict(type='LevelWeightScheduleHook', levels=[1, 5])]
    runner = Runner.from_cfg(cfg)
    with pytest.raises(ValueError, match=r'levels \[5\].*has 3'):
        runner.train()
