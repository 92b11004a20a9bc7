"""The ablation runner, end to end on two tiny arms."""
import json
import sys

import pytest

from tests.helpers import SMOKE, load_tool
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
        ' "model.predictor.multiway": False,'
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


def test_an_arms_hooks_follow_its_configs(tmp_path):
    """An arm's ``custom_hooks`` are added after its config's (monitors
    dropped); a malformed list is refused when the file is read, before
    anything trains."""
    from argparse import Namespace

    from mmengine.config import Config
    tool = load_tool('tools/analysis_tools/ablation.py')
    hook = dict(type='LevelWeightScheduleHook', end_factor=0.5)
    ablation = tmp_path / 'hooks.py'
    ablation.write_text(f'budget_minutes = 1\narms = [dict(name="A", '
                        f'config={SMOKE!r}, custom_hooks=[{hook!r}])]\n')
    args = Namespace(arms=None, budget_min=None, seeds=None)
    arm = tool.load_ablation(str(ablation), args)['arms'][0]
    tool.job_config(arm, 3, str(tmp_path / 'job.py'))
    cfg = Config.fromfile(str(tmp_path / 'job.py'))
    base = Config.fromfile(SMOKE).custom_hooks
    assert cfg.custom_hooks == base + [hook]
    assert cfg.randomness.seed == 3
    ablation.write_text('budget_minutes = 1\narms = [dict(name="A", '
                        f'config={SMOKE!r}, custom_hooks=[dict(x=1)])]\n')
    with pytest.raises(ValueError, match="arm 'A': custom_hooks"):
        tool.load_ablation(str(ablation), args)


def test_pace_from_fits_iterations_to_how_fast_the_arm_really_trained(
        tmp_path, monkeypatch):
    """``--pace-from``: an arm that trained at 0.47 s/iteration (not the
    0.4 it was timed at) gets iterations for 0.47, and nothing is timed."""
    from argparse import Namespace
    tool = load_tool('tools/analysis_tools/ablation.py')
    arm = dict(name='H own', config=SMOKE)
    earlier = tmp_path / 'earlier' / 'H_own' / 'seed1'
    earlier.mkdir(parents=True)
    # 2048 iterations in 16 minutes: 0.46875 s each
    (earlier / 'result.json').write_text(
        json.dumps(dict(iterations=2048, train_minutes=16.0, s_per_iter=0.4)))
    commands = []

    def fake_run(cmd, log, env, cores):
        commands.append(cmd)
        if cmd[1].endswith('train.py'):
            with open(log, 'w') as f:
                f.write('12/04 10:00:00 - Checkpoints will be saved to x\n'
                        '12/04 10:09:00 - Saving checkpoint at 1152 iters\n')
        else:  # test.py
            out = cmd[cmd.index('--out') + 1]
            with open(out, 'w') as f:
                json.dump(dict(metrics={'model/knn/top1_k20': 40.0}), f)

    monkeypatch.setattr(tool, 'run', fake_run)
    args = Namespace(
        pace_from=str(tmp_path / 'earlier'),
        pace_seed=None,
        margin=1.0,
        timing_steps=5,
        linear_probe=False)
    job = dict(arm=arm, seed=1, dir=str(tmp_path / 'now' / 'H_own' / 'seed1'))
    r = tool.run_job(job, 9 * 60.0, args, None, 1)
    assert r['s_per_iter'] == 0.46875
    assert r['iterations'] == 1152  # 9 minutes at 0.46875 s
    assert r['paced_from'] == str(earlier)
    assert not any('pretrain_throughput' in c[1] for c in commands)
    # the same arm and seed must have finished there
    job = dict(arm=arm, seed=2, dir=str(tmp_path / 'now' / 'H_own' / 'seed2'))
    with pytest.raises(FileNotFoundError, match='seed2/result.json'):
        tool.run_job(job, 9 * 60.0, args, None, 1)
    # --pace-seed 1: a seed that did not run there takes seed 1's pace
    args.pace_seed = 1
    r = tool.run_job(job, 9 * 60.0, args, None, 1)
    assert (r['seed'], r['iterations'], r['paced_from']) == (2, 1152,
                                                             str(earlier))
