"""``tools/run_main_job.py`` (``make train``) end to end on the smoke
config: train, k-NN of the checkpoint and of random init, results files,
and the checkpoint registered in the user-local zoo."""
import json
import os.path as osp
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

    name = 'hjepa_vit-tiny-p4_smoke_cifar10'  # no zoo entry: the file name
    assert f"registered '{name}'" in out
    from hjepa.apis import FeatureExtractor, get_entry, get_model
    entry = get_entry(name)
    assert osp.samefile(entry.weights, results['checkpoint'])
    assert entry.metrics['k-NN Top 1 (k=20)'] == results['knn_top1']
    model = get_model(name, pretrained=True)
    feats = FeatureExtractor(model)(torch.rand(3, 3, 32, 32))
    assert feats.shape == (3, 192)


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
    sys.path.insert(0, osp.join(REPO, 'tools'))
    try:
        from run_main_job import zoo_name
    finally:
        sys.path.pop(0)
    config = osp.join(REPO, 'configs', 'hjepa',
                      'hjepa_vit-tiny-d6-p4_1xb128-22e_cifar10.py')
    assert zoo_name(config) == 'hjepa_vit-tiny-d6-p4_cifar10'
    assert zoo_name(SMOKE) == 'hjepa_vit-tiny-p4_smoke_cifar10'
