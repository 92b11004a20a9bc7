"""Schedules that follow the training length; --cfg-options."""
import argparse
import os.path as osp

import pytest
from mmengine.config import Config, DictAction

from hjepa.utils import CfgOptionsAction, fit_schedule_to_iters, load_config
from hjepa.utils.config import fit_schedule_to_length
from tests.helpers import REPO


def cfg_with(schedulers, auto=True, **train_cfg):
    return Config(
        dict(
            auto_fit_schedule=auto,
            train_cfg=train_cfg or dict(max_epochs=2),
            param_scheduler=schedulers,
            train_dataloader=dict(
                batch_size=10,
                sampler=dict(type='DefaultSampler', shuffle=True)),
            default_hooks=dict(checkpoint=dict(type='CheckpointHook'))))


WARMUP_COSINE = [
    dict(
        type='LinearLR',
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        by_epoch=True,
        begin=1,
        end=2,
        convert_to_iter_based=True),
]


def test_leaf_epochs_stretch_the_schedule():
    cfg = cfg_with(WARMUP_COSINE, max_epochs=6)
    fit_schedule_to_length(cfg)
    assert [(s['begin'], s['end']) for s in cfg.param_scheduler] == [(0, 3),
                                                                     (3, 6)]


def test_without_the_flag_nothing_moves():
    cfg = cfg_with(WARMUP_COSINE, auto=False, max_epochs=6)
    fit_schedule_to_length(cfg)
    assert cfg.param_scheduler[1]['end'] == 2


def test_mixed_units_are_refused():
    cfg = cfg_with(
        WARMUP_COSINE + [dict(type='X', by_epoch=False, end=5)], max_epochs=6)
    with pytest.raises(ValueError, match='by_epoch'):
        fit_schedule_to_length(cfg)


def test_cpu_default_ends_its_cosine_at_the_epochs_asked_for():
    """``--cfg-options train_cfg.max_epochs=6`` on the CPU default: the
    cosine ends at epoch 6, not at the 22 the leaf was written for."""
    path = f'{REPO}/configs/hjepa/hjepa_vit-tiny-d6-p4_1xb128-22e_cifar10.py'
    cfg = load_config(path, {'train_cfg.max_epochs': 6})
    ends = [s['end'] for s in cfg.param_scheduler]
    assert max(ends) == 6
    written = load_config(path)
    assert max(s['end'] for s in written.param_scheduler) == 22


def test_fit_to_iterations_keeps_the_shape():
    cfg = cfg_with(WARMUP_COSINE, max_epochs=2)
    fit_schedule_to_iters(cfg, 100, epoch_length=7)
    assert [(s['begin'], s['end'], s['by_epoch'])
            for s in cfg.param_scheduler] == [(0, 50, False), (50, 100, False)]
    assert cfg.train_cfg == dict(
        type='IterBasedTrainLoop', max_iters=100, val_interval=101)
    assert cfg.train_dataloader.sampler.type == 'InfiniteSampler'
    assert cfg.default_hooks.checkpoint.interval == 100


def test_fit_iteration_schedules_of_an_epoch_loop():
    cfg = cfg_with([dict(type='LinearLR', by_epoch=False, begin=0, end=7)],
                   max_epochs=2)
    fit_schedule_to_iters(cfg, 140, epoch_length=7)
    assert cfg.param_scheduler[0]['end'] == 70  # 1 of 2 epochs


def test_a_squeezed_warm_up_resolves_outside_a_runner():
    """The smoke config's warm-up (40 of 300 epochs) fitted to its 2 epochs
    of 64 images in batches of 32 is 0.27 epochs, under one iteration (0.5
    epochs), so it is widened to one, which builds the data set to count
    iterations: in a fresh process with no default registry scope too (as
    the ablation runner calls it), not only inside a runner."""
    import subprocess
    import sys
    prefix = 'train_dataloader.dataset.'
    options = {
        prefix + 'data_root': osp.join(REPO, 'data', 'cifar10'),
        prefix + 'max_samples': 64
    }
    code = ('from hjepa.utils import load_config; '
            "cfg = load_config('configs/hjepa/hjepa_vit-tiny-p4_smoke_"
            f"cifar10.py', {options!r}); "
            "print(cfg.param_scheduler[0]['end'])")
    out = subprocess.run([sys.executable, '-c', code],
                         cwd=REPO,
                         capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert float(out.stdout.split()[-1]) == pytest.approx(0.5)


def parse_cfg_options(*values):
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction)
    return parser.parse_args(['--cfg-options', *values]).cfg_options


def test_cfg_options_read_a_list_of_dicts_into_the_config():
    # mmengine's DictAction recurses without end on this value
    levels = ("model.head.levels=[dict(kind='patch'), "
              "dict(kind='region', grid=8, center=True, sample=16)]")
    options = parse_cfg_options(levels, 'model.head.level_weights=1.0,0.5')
    cfg = Config.fromfile(
        osp.join(REPO, 'configs/hjepa/'
                 'hjepa_vit-tiny-d6-p4_1xb128-22e_cifar10.py'))
    cfg.merge_from_dict(options)
    assert cfg.model.head.levels == [
        dict(kind='patch'),
        dict(kind='region', grid=8, center=True, sample=16)
    ]
    assert cfg.model.head.level_weights == [1.0, 0.5]


@pytest.mark.parametrize('value', [
    '1', '-2.5e-4', 'true', 'None', 'a.b', '1,2,3', '[a,b]', '(1,2)',
    '[(1,2),[a,b],c]', "'quoted'", '{a}'
])
def test_cfg_options_read_other_values_as_mmengine_does(value):
    assert parse_cfg_options(f'k={value}') == dict(
        k=DictAction._parse_iterable(value))


def test_cfg_options_read_dicts_and_negative_numbers():
    assert parse_cfg_options("k={'a': -1, 'b': (dict(c=None), [True])}") == {
        'k': dict(a=-1, b=(dict(c=None), [True]))
    }


@pytest.mark.parametrize('value, why', [
    ('[dict(kind=patch)]', "'patch' is not a value"),
    ("[dict(kind='p'), open('x')]", "open('x')"),
    ('[dict(a=1) dict(b=2)]', 'not Python'),
    ('[dict(a=1)', 'not Python'),
])
def test_cfg_options_refuse_a_dict_they_cannot_read(value, why, capsys):
    # DictAction would keep [dict(kind=patch)] as the string
    # ['dict(kind=patch)'] and train on the config's own levels
    with pytest.raises(SystemExit) as e:
        parse_cfg_options(f'model.head.levels={value}')
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert value in err and why in err


def test_cfg_options_without_a_key_are_an_error(capsys):
    with pytest.raises(SystemExit):
        parse_cfg_options('levels')
    assert "KEY=VALUE, got 'levels'" in capsys.readouterr().err
