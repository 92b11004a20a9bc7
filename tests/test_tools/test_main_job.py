"""``tools/run_main_job.py`` (``make train``) end to end on the smoke
config: train, k-NN of the checkpoint and of random init, results files,
and the checkpoint registered in the user-local zoo."""
import json
import os.path as osp
import subprocess
import sys

import pytest
import torch

from tests.helpers import REPO, SMOKE
from tests.test_tools.test_tools import run


@pytest.mark.slow
def test_main_job_registers_its_checkpoint(tmp_path, cifar_root, monkeypatch):
    # the smoke config reads data/cifar10 under the repository
    assert osp.samefile(cifar_root, osp.join(REPO, 'data', 'cifar10'))
    monkeypatch.setenv('HJEPA_HOME', str(tmp_path / 'home'))
    work_dir = str(tmp_path / 'main_job')
    out = run([
        sys.executable,
        osp.join(REPO, 'tools', 'run_main_job.py'), SMOKE, '--work-dir',
        work_dir, '--no-amp'
    ]).stdout
    with open(osp.join(work_dir, 'results.json')) as f:
        results = json.load(f)
    assert results['checkpoint'].endswith('epoch_2.pth')
    assert 0 < results['knn_top1'] <= 100
    assert {'top1_k10', 'top1_k20'} <= set(results['knn_pretrained'])
    assert results['train_wall_seconds'] < results['total_wall_seconds']
    # timed first; the smoke config's 2 epochs fit an hour anywhere
    assert results['epochs_fitted']['epochs'] == 2
    assert results['epochs_fitted']['s_per_iter'] > 0
    assert results['epochs_fitted']['margin'] == 0.8
    assert results['epochs_fitted']['loop_over_timed'] > 0
    assert 'the training loop ran at' in out

    name = 'hjepa_vit-tiny-p4_smoke_cifar10'  # no zoo entry: the file name
    assert f"registered '{name}'" in out
    from hjepa.apis import FeatureExtractor, get_entry, get_model
    entry = get_entry(name)
    assert osp.samefile(entry.weights, results['checkpoint'])
    assert entry.metrics['k-NN Top 1 (k=20)'] == results['knn_top1']
    model = get_model(name, pretrained=True)
    feats = FeatureExtractor(model)(torch.rand(3, 3, 32, 32))
    assert feats.shape == (3, 192)


def _main_job_module():
    sys.path.insert(0, osp.join(REPO, 'tools'))
    try:
        import run_main_job
    finally:
        sys.path.pop(0)
    return run_main_job


def test_budget_trains_the_whole_epochs_that_fit(tmp_path, monkeypatch):
    """On a machine several times slower, make train must stay an hour:
    as many whole epochs as fit the budget, never more than the config's."""
    from hjepa.utils import load_config
    from hjepa.utils.config import _epoch_length
    job = _main_job_module()
    s_per_iter = 2.0

    def fake_timing(args):
        out = args[args.index('--json') + 1]
        with open(out, 'w') as f:
            json.dump(dict(result=dict(step_ms=1000 * s_per_iter)), f)

    monkeypatch.setattr(job, 'run', fake_timing)
    epoch_min = _epoch_length(load_config(SMOKE)) * s_per_iter / 60
    # 1.5 epochs of budget (after the margin): one whole epoch
    epochs, fitted = job.fit_epochs(SMOKE, str(tmp_path),
                                    1.5 * epoch_min / job.MARGIN, True)
    assert epochs == 1
    assert fitted['config_epochs'] == 2
    assert fitted['s_per_iter'] == s_per_iter
    # plenty of budget: the config's own 2 epochs, not more
    assert job.fit_epochs(SMOKE, str(tmp_path), 100 * epoch_min, True)[0] == 2
    # not even one epoch: refused, with the numbers
    with pytest.raises(RuntimeError, match='s/iteration'):
        job.fit_epochs(SMOKE, str(tmp_path), 0.5 * epoch_min, True)


def test_loop_pace_says_what_the_budget_held():
    job = _main_job_module()
    # make train of the multiway default on two AMX cores: 13 epochs timed
    # at 3.44 min each trained in 44.1 min, so 17 would have fitted the hour
    fitted = dict(epochs=13, minutes_per_epoch=3.4391, config_epochs=22)
    pace = job.loop_pace(fitted, 2647.4, 60)
    assert pace['loop_over_timed'] == pytest.approx(0.987, abs=1e-3)
    assert pace['epochs_at_loop_pace'] == 17
    # a loop 1.25x slower than its timing: fewer epochs than the fit gave
    fitted = dict(epochs=4, minutes_per_epoch=12.0, config_epochs=22)
    pace = job.loop_pace(fitted, 4 * 12.0 * 60 * 1.25, 60)
    assert pace['loop_over_timed'] == pytest.approx(1.25)
    assert pace['epochs_at_loop_pace'] == 4
    # never more than the config's epochs
    fitted = dict(epochs=2, minutes_per_epoch=1.0, config_epochs=2)
    assert job.loop_pace(fitted, 120, 60)['epochs_at_loop_pace'] == 2


@pytest.mark.parametrize('margin', ['0', '1.5', '-0.2'])
def test_margin_out_of_range_is_refused(tmp_path, margin):
    proc = subprocess.run([
        sys.executable,
        osp.join(REPO, 'tools', 'run_main_job.py'), SMOKE, '--work-dir',
        str(tmp_path), '--margin', margin
    ],
                          capture_output=True,
                          text=True)
    assert proc.returncode == 2
    assert f'--margin {float(margin)} must be in (0, 1]' in proc.stderr
    assert not (tmp_path / 'timing.json').exists()  # nothing was run


def test_zoo_name_of_the_cpu_default(tmp_path, monkeypatch):
    # a user-local entry of the same name for the config of another
    # checkout (what `make train` in another clone registers) changes
    # nothing: the name comes from the shipped index
    home = tmp_path / 'home'
    home.mkdir()
    (home / 'model-index.yml').write_text(
        'Models:\n  - Name: hjepa_vit-tiny-d6-p4_cifar10\n'
        f'    Config: {SMOKE}\n')
    monkeypatch.setenv('HJEPA_HOME', str(home))
    zoo_name = _main_job_module().zoo_name
    config = osp.join(REPO, 'configs', 'hjepa',
                      'hjepa_vit-tiny-d6-p4_1xb128-22e_cifar10.py')
    assert zoo_name(config) == 'hjepa_vit-tiny-d6-p4_cifar10'
    assert zoo_name(SMOKE) == 'hjepa_vit-tiny-p4_smoke_cifar10'
