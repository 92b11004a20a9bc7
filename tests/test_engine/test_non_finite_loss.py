"""A diverging run stops with a clear error and leaves no NaN checkpoint."""
import os.path as osp

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner

from hjepa.engine.hooks import NonFiniteLossError
from hjepa.registry import HOOKS
from hjepa.utils.checkpoint import read_checkpoint
from tests.helpers import smoke_config


@HOOKS.register_module(force=True)
class PoisonHook(Hook):
    """Makes one logged loss NaN at iteration ``at`` (1-based), or the
    model's weights NaN at the end of epoch ``weights_at_epoch``."""

    priority = 'HIGHEST'  # before NonFiniteLossHook sees the outputs

    def __init__(self,
                 at=None,
                 key='loss_level1',
                 weights_at_epoch=None,
                 grad_norm_at=None):
        self.at, self.key = at, key
        self.weights_at_epoch = weights_at_epoch
        self.grad_norm_at = grad_norm_at

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        if runner.iter + 1 == self.at:
            outputs[self.key] = torch.tensor(float('nan'))
        if runner.iter + 1 == self.grad_norm_at:
            # what optim_wrapper.clip_grad logs for an overflowing gradient
            runner.message_hub.update_scalar('train/grad_norm', float('inf'))

    def after_train_epoch(self, runner):
        if runner.epoch + 1 == self.weights_at_epoch:
            with torch.no_grad():
                next(runner.model.predictor.parameters()).fill_(float('inf'))


def train(tmp_path, cifar_root, name, **overrides):
    cfg = smoke_config(tmp_path, cifar_root, name, **overrides)
    runner = Runner.from_cfg(cfg)
    with pytest.raises(NonFiniteLossError) as info:
        runner.train()
    return runner, str(info.value)


def saved_weights_are_finite(work_dir):
    for path in sorted(work_dir.glob('*.pth*')):
        state_dict = read_checkpoint(str(path))['state_dict']
        for key, value in state_dict.items():
            if value.is_floating_point():
                assert torch.isfinite(value).all(), (path, key)


def test_nan_loss_stops_naming_iteration_level_lr_and_last_checkpoint(
        tmp_path, cifar_root):
    _, msg = train(
        tmp_path,
        cifar_root,
        'nan_loss',
        custom_hooks=[dict(type='PoisonHook', at=11)] +
        smoke_config(tmp_path, cifar_root, 'x').custom_hooks)
    assert msg.startswith('non-finite loss at iteration 11 (epoch 2): '
                          'loss_level1=nan; lr '), msg
    assert f'last checkpoint written: {tmp_path}/epoch_1.pth' in msg
    assert not osp.exists(tmp_path / 'epoch_2.pth')
    saved_weights_are_finite(tmp_path)


def test_a_learning_rate_of_1e6_stops_the_run(tmp_path, cifar_root):
    _, msg = train(
        tmp_path,
        cifar_root,
        'lr_1e6',
        optim_wrapper=dict(optimizer=dict(lr=1e6)))
    assert 'non-finite loss at iteration' in msg or \
        'refusing to save a checkpoint' in msg, msg
    assert 'lr ' in msg and 'last checkpoint written' in msg
    saved_weights_are_finite(tmp_path)


def test_non_finite_weights_are_never_saved(tmp_path, cifar_root):
    _, msg = train(
        tmp_path,
        cifar_root,
        'inf_weights',
        custom_hooks=[dict(type='PoisonHook', weights_at_epoch=1)] +
        smoke_config(tmp_path, cifar_root, 'x').custom_hooks)
    assert msg.startswith('refusing to save a checkpoint at iteration 8: '
                          '1 model parameters hold NaN or inf (first: '
                          'predictor.'), msg
    assert 'last checkpoint written: none yet' in msg
    assert not list(tmp_path.glob('*.pth*'))
    assert not osp.exists(tmp_path / 'last_checkpoint')


def test_non_finite_gradient_norm_stops(tmp_path, cifar_root):
    _, msg = train(
        tmp_path,
        cifar_root,
        'inf_grad_norm',
        optim_wrapper=dict(clip_grad=dict(max_norm=1.0)),
        custom_hooks=[dict(type='PoisonHook', grad_norm_at=3)] +
        smoke_config(tmp_path, cifar_root, 'x').custom_hooks)
    assert msg.startswith('non-finite gradient norm at iteration 3 (epoch '
                          '1): grad_norm=inf; lr '), msg
