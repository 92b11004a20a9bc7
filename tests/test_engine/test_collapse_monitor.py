"""CollapseMonitorHook in a real Runner: fires on a run made to collapse,
stays quiet on the CPU default recipe."""
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from hjepa.engine import CollapseMonitorHook, RepresentationCollapseError
from tests.helpers import REPO, smoke_config

CPU_DEFAULT = osp.join(REPO, 'configs', 'hjepa',
                       'hjepa_vit-tiny-d6-p4_1xb128-22e_cifar10.py')


def _collapsing_config(tmp_path, cifar_root, actions):
    """lr 30x the smoke recipe and no EMA (target = context): the features
    go constant within ~16 iterations."""
    cfg = smoke_config(
        tmp_path,
        cifar_root,
        'collapse_' + '_'.join(actions),
        train_dataloader=dict(dataset=dict(max_samples=1024)),
        optim_wrapper=dict(optimizer=dict(lr=3e-2)))
    cfg.train_cfg.max_epochs = 2
    cfg.custom_hooks = [
        dict(type='TargetEncoderEMAHook', momentum=0.0, end_momentum=0.0),
        dict(type='SafeCheckpointHook'),
        dict(
            type='CollapseMonitorHook',
            interval=8,
            patience=2,
            actions=actions),
    ]
    return cfg


def _monitor(runner):
    return next(h for h in runner.hooks if isinstance(h, CollapseMonitorHook))


def test_fires_and_stops_a_collapsing_run(tmp_path, cifar_root):
    cfg = _collapsing_config(tmp_path, cifar_root,
                             ('warn', 'checkpoint', 'stop'))
    runner = Runner.from_cfg(cfg)
    with pytest.raises(
            RepresentationCollapseError,
            match='collapse suspected at iteration') as err:
        runner.train()
    step = _monitor(runner).fired_at[0]
    assert step <= 48
    assert f'collapse_iter_{step}.pth' in str(err.value)
    assert (tmp_path / f'collapse_iter_{step}.pth').exists()
    assert runner.iter < runner.max_iters


def test_lower_lr_halves_every_learning_rate(tmp_path, cifar_root):
    cfg = _collapsing_config(tmp_path, cifar_root, ('lower_lr', ))
    cfg.train_cfg.max_epochs = 1
    cfg.param_scheduler = []  # constant lr, so the change is exact
    runner = Runner.from_cfg(cfg)
    runner.train()
    fired = len(_monitor(runner).fired_at)
    assert fired >= 1
    lr = runner.optim_wrapper.get_lr()['lr'][0]
    assert lr == pytest.approx(3e-2 * 0.5**fired)


@pytest.mark.slow
def test_quiet_on_the_cpu_default_recipe(tmp_path, cifar_root):
    """The CPU default config, unchanged but for a 2,560-image subset
    (20 iterations an epoch) and a check every 5 iterations."""
    cfg = Config.fromfile(CPU_DEFAULT)
    cfg.work_dir = str(tmp_path)
    cfg.log_level = 'WARNING'
    cfg.visualizer = dict(
        type='Visualizer',
        name='quiet_monitor',
        vis_backends=[dict(type='LocalVisBackend')])
    cfg.train_dataloader.dataset.data_root = cifar_root
    cfg.train_dataloader.dataset.max_samples = 2560
    cfg.train_cfg.max_epochs = 2
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=99)
    cfg.custom_hooks = [
        h for h in cfg.custom_hooks if h['type'] != 'OnlineKNNHook'
    ]
    for hook in cfg.custom_hooks:
        if hook['type'] == 'CollapseMonitorHook':
            hook.update(interval=5, patience=1, actions=('stop', ))
    runner = Runner.from_cfg(cfg)
    runner.train()
    monitor = _monitor(runner)
    assert monitor.fired_at == []
    stats = monitor.statistics(runner)
    assert stats['target_image_rank'] > 2.0
    assert {f'context_level{i}_std' for i in range(3)} <= set(stats)


@pytest.mark.parametrize('kwargs,match', [
    (dict(actions=('panic', )), 'actions'),
    (dict(interval=0), 'interval'),
    (dict(lr_factor=2.0), 'lr_factor'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CollapseMonitorHook(**kwargs)


def test_acts_once_per_collapse():
    """A run that stays collapsed is acted on once; it re-arms only after a
    healthy check. The statistics are given; the action (a warning) is the
    hook's own."""
    hook = CollapseMonitorHook(interval=1, patience=1, actions=('warn', ))
    bad = dict(
        target_image_rank=1.0, target_image_std=0.0, target_image_mean_cos=1.0)
    good = dict(
        target_image_rank=50.0,
        target_image_std=0.6,
        target_image_mean_cos=0.5)
    warnings = []

    class _Runner:
        iter = 0
        visualizer = type('V', (), {'add_scalars': lambda *a, **k: None})()
        logger = type(
            'L', (), {
                'info': lambda *a, **k: None,
                'warning': lambda self, msg: warnings.append(msg)
            })()

    runner = _Runner()
    for i, stats in enumerate([bad, bad, bad, good, bad, bad]):
        runner.iter = i
        hook.statistics = lambda r, s=stats: dict(s)
        hook.after_train_iter(runner, i)
    assert hook.fired_at == [1, 5]
    assert [w.split(':')[0] for w in warnings] == [
        'representation collapse suspected at iteration 1',
        'representation collapse suspected at iteration 5'
    ]


def test_lower_lr_carries_through_the_schedulers():
    """Warm-up then cosine, as the configs schedule lr: after the cut,
    every later step's lr is the uncut schedule's times the factor."""
    import torch
    from mmengine.optim import CosineAnnealingLR, LinearLR, OptimWrapper

    def schedule():
        param = torch.nn.Parameter(torch.zeros(1))
        wrapper = OptimWrapper(torch.optim.AdamW([param], lr=1e-3))
        schedulers = [
            LinearLR(
                wrapper, start_factor=0.1, by_epoch=False, begin=0, end=5),
            CosineAnnealingLR(
                wrapper,
                T_max=15,
                eta_min=1e-5,
                by_epoch=False,
                begin=5,
                end=20)
        ]
        return type('R', (),
                    dict(optim_wrapper=wrapper, param_schedulers=schedulers))()

    cut, uncut = schedule(), schedule()
    hook = CollapseMonitorHook(lr_factor=0.5)
    for step in range(20):
        if step == 3:  # during warm-up
            hook._lower_lr(cut)
        if step >= 3:
            assert cut.optim_wrapper.get_lr()['lr'][0] == pytest.approx(
                0.5 * uncut.optim_wrapper.get_lr()['lr'][0], rel=1e-6)
        for runner in (cut, uncut):
            for s in runner.param_schedulers:
                s.step()
