import math

import pytest
import torch
from mmengine.runner import Runner

from hjepa.engine import TargetEncoderEMAHook
from tests.helpers import smoke_config


def test_schedules():
    linear = TargetEncoderEMAHook(0.996, 1.0)
    assert linear.momentum_at(0, 100) == pytest.approx(0.996)
    assert linear.momentum_at(50, 100) == pytest.approx(0.998)
    assert linear.momentum_at(100, 100) == pytest.approx(1.0)
    cosine = TargetEncoderEMAHook(0.99, 1.0, schedule='cosine')
    assert cosine.momentum_at(50, 100) == pytest.approx(0.995)
    assert cosine.momentum_at(
        25, 100) == pytest.approx(1.0 - 0.01 * (1 + math.cos(math.pi / 4)) / 2)


@pytest.mark.parametrize('kwargs,match', [
    (dict(momentum=1.2), 'momentum'),
    (dict(schedule='step'), 'schedule'),
    (dict(interval=0), 'interval'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TargetEncoderEMAHook(**kwargs)


def test_hook_in_a_runner_tracks_the_iteration(tmp_path, cifar_root):
    """In a real Runner the target follows the EMA of the context encoder,
    with the momentum of each step computed from runner.iter."""
    cfg = smoke_config(tmp_path, cifar_root, 'ema_hook_test')
    cfg.train_cfg.max_epochs = 1
    cfg.custom_hooks = [
        dict(type='TargetEncoderEMAHook', momentum=0.9, end_momentum=1.0)
    ]
    runner = Runner.from_cfg(cfg)
    model = runner.model
    seen = []
    original = model.update_target_encoder

    def spy(momentum):
        before = [p.clone() for p in model.target_encoder.parameters()]
        original(momentum)
        for b, t, c in zip(before, model.target_encoder.parameters(),
                           model.backbone.parameters()):
            torch.testing.assert_close(t, momentum * b + (1 - momentum) * c)
        seen.append(momentum)

    model.update_target_encoder = spy
    runner.train()
    iters = runner.max_iters
    assert len(seen) == iters == 8
    assert seen == pytest.approx([0.9 + 0.1 * i / iters for i in range(iters)])
