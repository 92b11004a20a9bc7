"""The ablation runner, end to end on two tiny arms."""
import json
import sys

import pytest

from tests.helpers import SMOKE
from tests.test_tools.test_tools import run


@pytest.mark.slow
def test_two_arms_at_an_equal_budget(tmp_path, cifar_root):
    ablation = tmp_path / 'tiny.py'
    data = {
        'train_dataloader.dataset.data_root': cifar_root,
        'test_dataloader.dataset.data_root': cifar_root,
        'test_cfg.bank_dataloader.dataset.data_root': cifar_root,
    }
    ablation.write_text(
        'budget_minutes = 0.1\nseeds = (0, )\n'
        f'arms = [\n'
        f'    dict(name="I-JEPA", config={SMOKE!r}, cfg_options={{**{data!r},'
        ' "model.head.levels": [dict(kind="patch")],'
        ' "model.head.level_weights": (1.0, )}),\n'
        f'    dict(name="H-JEPA", config={SMOKE!r}, cfg_options={data!r}),\n'
        ']\n')
    work = tmp_path / 'work'
    out = run([
        sys.executable, 'tools/analysis_tools/ablation.py',
        str(ablation), '--work-dir',
        str(work), '--timing-steps', '3'
    ])
    assert 'I-JEPA' in out.stdout and 'H-JEPA' in out.stdout
    results = json.loads((work / 'results.json').read_text())
    assert [a['arm'] for a in results['arms']] == ['I-JEPA', 'H-JEPA']
    for job in results['jobs']:
        # its schedule was fitted to the iterations the budget allows
        budget_s = 6.0
        assert job['iterations'] * job['s_per_iter'] <= budget_s
        job_dir = work / job['arm'] / 'seed0'
        scored = json.loads((job_dir / 'eval.json').read_text())
        assert job['knn_top1'] == scored['metrics']['model/knn/top1_k20']
        cfg = (job_dir / 'config.py').read_text()
        assert f"max_iters={job['iterations']}" in cfg.replace(' ', '')
    assert (work / 'results.md').exists() and (work / 'results.png').exists()
    # a second run only collects what is done
    again = run([
        sys.executable, 'tools/analysis_tools/ablation.py',
        str(ablation), '--work-dir',
        str(work)
    ])
    assert 'I-JEPA' in again.stdout
    # one arm asked for: the table still holds every job done in the dir
    one = run([
        sys.executable, 'tools/analysis_tools/ablation.py',
        str(ablation), '--work-dir',
        str(work), '--arms', 'H-JEPA'
    ])
    assert '1 jobs' in one.stdout
    results = json.loads((work / 'results.json').read_text())
    assert [a['arm'] for a in results['arms']] == ['H-JEPA', 'I-JEPA']
