"""Stop a run after a checkpoint, resume it, and compare with a run that
was never interrupted."""
import os.path as osp

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner

from hjepa.registry import HOOKS
from tests.helpers import smoke_config


class Interrupted(Exception):
    pass


@HOOKS.register_module(force=True)
class InterruptAfterEpochHook(Hook):
    """Stands in for a killed job: raises once epoch ``epoch`` is saved."""

    priority = 'LOWEST'  # after CheckpointHook has written the checkpoint

    def __init__(self, epoch):
        self.epoch = epoch

    def after_train_epoch(self, runner):
        if runner.epoch == self.epoch:
            raise Interrupted


def run(work_dir, cifar_root, name, interrupt=False, resume=False):
    cfg = smoke_config(work_dir, cifar_root, name)
    if interrupt:
        cfg.custom_hooks = cfg.custom_hooks + [
            dict(type='InterruptAfterEpochHook', epoch=1)
        ]
    cfg.resume = resume
    runner = Runner.from_cfg(cfg)
    if interrupt:
        with pytest.raises(Interrupted):
            runner.train()
    else:
        runner.train()
    return runner


def assert_same_state(a, b):
    """The two runners' models hold the same tensors under the same keys."""
    a, b = a.model.state_dict(), b.model.state_dict()
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], msg=key)


@pytest.mark.slow
def test_resume_continues_where_it_stopped(tmp_path, cifar_root):
    straight = run(tmp_path / 'straight', cifar_root, 'resume_straight')
    run(tmp_path / 'split', cifar_root, 'resume_first_half', interrupt=True)
    ckpt = osp.join(tmp_path, 'split', 'epoch_1.pth')
    assert osp.exists(ckpt)

    # The checkpoint loads with torch's safe unpickler.
    saved = torch.load(ckpt, weights_only=True)
    assert saved['meta']['iter'] == 8 and saved['meta']['epoch'] == 1

    resumed = run(
        tmp_path / 'split', cifar_root, 'resume_second_half', resume=True)
    assert resumed.iter == straight.iter == 16
    assert resumed.epoch == straight.epoch == 2

    # Weights of both encoders, the predictor and the step counter.
    assert_same_state(straight, resumed)
    assert int(resumed.model.state_dict()['num_steps']) == 16

    # Optimizer moments and the schedulers' positions.
    opt_a = straight.optim_wrapper.state_dict()['state']
    opt_b = resumed.optim_wrapper.state_dict()['state']
    for idx in opt_a:
        for k in opt_a[idx]:
            torch.testing.assert_close(opt_a[idx][k], opt_b[idx][k])
    for s_a, s_b in zip(straight.param_schedulers, resumed.param_schedulers):
        assert s_a.state_dict() == s_b.state_dict()
    group_a = straight.optim_wrapper.optimizer.param_groups[0]
    group_b = resumed.optim_wrapper.optimizer.param_groups[0]
    assert group_a['lr'] == pytest.approx(group_b['lr'])
    assert group_a['weight_decay'] == pytest.approx(group_b['weight_decay'])


@pytest.mark.slow
def test_a_format_2_checkpoint_resumes(tmp_path, cifar_root):
    """A checkpoint of the layout before one step counter (format 2: the
    data preprocessor kept its own ``num_steps``) resumes, and the run ends
    where an uninterrupted one does."""
    straight = run(tmp_path / 'straight', cifar_root, 'fmt2_straight')
    run(tmp_path / 'split', cifar_root, 'fmt2_first_half', interrupt=True)
    ckpt = osp.join(tmp_path, 'split', 'epoch_1.pth')
    saved = torch.load(ckpt, weights_only=True)
    saved['meta']['hjepa_format'] = 2
    saved['state_dict']['data_preprocessor.num_steps'] = \
        saved['state_dict']['num_steps'].clone()
    torch.save(saved, ckpt)

    resumed = run(tmp_path / 'split', cifar_root, 'fmt2_resumed', resume=True)
    assert resumed.iter == straight.iter == 16
    assert_same_state(straight, resumed)


def test_checkpoint_needs_no_unsafe_globals(tmp_path, cifar_root):
    from torch.serialization import get_unsafe_globals_in_checkpoint

    from hjepa.engine.hooks.safe_checkpoint_hook import SAFE_CHECKPOINT_GLOBALS
    cfg = smoke_config(tmp_path, cifar_root, 'safe_ckpt')
    cfg.train_cfg.max_epochs = 1
    Runner.from_cfg(cfg).train()
    ckpt = osp.join(tmp_path, 'epoch_1.pth')
    allowed = {
        f'{g.__module__}.{g.__qualname__}'
        for g in SAFE_CHECKPOINT_GLOBALS
    }
    unsafe = set(get_unsafe_globals_in_checkpoint(ckpt))
    assert 'builtins.getattr' not in unsafe
    assert unsafe <= allowed | {
        'numpy.core.multiarray._reconstruct', 'numpy.core.multiarray.scalar'
    }
    torch.load(ckpt, weights_only=True)
