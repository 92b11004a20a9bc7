"""The command-line tools, run as a user runs them."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from tests.helpers import (REPO, SMOKE, knn_by_hand, load_smoke_model,
                           smoke_config)


def run(args, **kwargs):
    env = dict(os.environ)
    env['PATH'] = osp.dirname(sys.executable) + os.pathsep + env['PATH']
    env.setdefault('OMP_NUM_THREADS', '1')
    result = subprocess.run(
        args, cwd=REPO, env=env, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, (
        result.stdout[-3000:] + result.stderr[-3000:])
    return result


def data_options(cifar_root):
    return [
        f'train_dataloader.dataset.data_root={cifar_root}',
        f'test_dataloader.dataset.data_root={cifar_root}',
        f'test_cfg.bank_dataloader.dataset.data_root={cifar_root}',
    ]


@pytest.mark.slow
def test_train_amp_then_test(tmp_path, cifar_root):
    work = tmp_path / 'train'
    run([
        sys.executable, 'tools/train.py', SMOKE, '--amp', '--work-dir',
        str(work), '--cfg-options'
    ] + data_options(cifar_root))
    ckpt = work / 'epoch_2.pth'
    assert ckpt.exists()
    logs = list(work.glob('*/vis_data/scalars.json'))
    assert logs, 'no scalar log'
    first = json.loads(logs[0].read_text().splitlines()[0])
    assert {'loss_level0', 'loss_level1', 'loss_level2'} <= set(first)
    assert list(work.glob('*/vis_data/events.out.tfevents.*'))
    saved = torch.load(ckpt, weights_only=True)
    assert 'target_encoder.patch_embed.weight' in saved['state_dict']

    out = tmp_path / 'knn.json'
    run([
        sys.executable, 'tools/test.py', SMOKE,
        str(ckpt), '--work-dir',
        str(tmp_path / 'eval'), '--out',
        str(out), '--cfg-options'
    ] + data_options(cifar_root))
    metrics = json.loads(out.read_text())['metrics']
    # the checkpoint's target encoder, scored by hand, gives the same number
    cfg = smoke_config(tmp_path / 'by_hand', cifar_root, 'by_hand')
    model = load_smoke_model(ckpt, cfg)
    expected = knn_by_hand(model, model.target_encoder, cfg)
    assert abs(metrics['model/knn/top1_k20'] - expected) < 1e-6

    # every protocol beside both baselines, with its report
    report = tmp_path / 'report'
    run([
        sys.executable, 'tools/test.py', SMOKE,
        str(ckpt), '--work-dir',
        str(tmp_path / 'eval_all'), '--protocol', 'all', '--report-dir',
        str(report), '--cfg-options'
    ] + data_options(cifar_root) + [
        'test_cfg.protocols.linear_probe.epochs=2',
        'test_cfg.protocols.few_shot.episodes=5',
        'test_cfg.protocols.few_shot.n_query=5',
        'test_cfg.protocols.feature_quality.num_samples=32',
        'test_cfg.protocols.finetune.epochs=1',
        'test_cfg.protocols.finetune.max_train_samples=128'
    ])
    data = json.loads((report / 'report.json').read_text())
    assert set(data['metrics']) >= {'model', 'random_init', 'raw_pixels'}
    assert set(data['metrics']['model']) == {
        'knn', 'linear_probe', 'few_shot', 'feature_quality', 'finetune'
    }
    assert data['checkpoint'] == str(ckpt)
    # the training run beside the checkpoint gives the loss curves
    assert (report / 'training_curves.png').exists()


@pytest.mark.slow
def test_dist_train_two_processes(tmp_path, cifar_root):
    work = tmp_path / 'ddp'
    result = run(
        [
            'bash', 'tools/dist_train.sh', SMOKE, '2', '--work-dir',
            str(work), '--cfg-options'
        ] + data_options(cifar_root) + ['train_cfg.max_epochs=1'],
        timeout=600)
    assert (work / 'epoch_1.pth').exists(), result.stdout[-2000:]
    log = next(work.glob('*/*.log')).read_text()
    assert 'Distributed launcher: pytorch' in log
    # 256 images, batch 32 per process: 4 iterations an epoch on 2 ranks.
    assert 'Epoch(train) [1][4/4]' in log


def test_print_config():
    out = run([sys.executable, 'tools/print_config.py', SMOKE]).stdout
    assert "type='HJEPA'" in out


def test_cfg_options_take_a_list_of_dicts():
    # what mmengine's DictAction cannot parse (the ablations' level lists)
    out = run([
        sys.executable, 'tools/print_config.py', SMOKE, '--cfg-options',
        "model.head.levels=[dict(kind='patch'), dict(kind='region', grid=2)]"
    ]).stdout
    assert "levels=[\n" in out and "kind='region'" in out
    assert "dict(kind='patch')" in out.replace('\n', '').replace(' ', '')


def test_protocol_flags_need_the_protocol_loop(tmp_path):
    # KNNTestLoop, the k-NN-only alias, takes no protocol list
    env = dict(os.environ, OMP_NUM_THREADS='1')
    result = subprocess.run([
        sys.executable, 'tools/test.py', SMOKE, 'random', '--work-dir',
        str(tmp_path), '--protocol', 'all', '--cfg-options',
        'test_cfg.type=KNNTestLoop'
    ],
                            cwd=REPO,
                            env=env,
                            capture_output=True,
                            text=True)
    assert result.returncode != 0
    assert "'KNNTestLoop' (k-NN only)" in result.stderr

    # a scoped name is the same loop
    result = subprocess.run([
        sys.executable, 'tools/test.py', SMOKE, 'random', '--work-dir',
        str(tmp_path), '--protocol', 'nonexistent', '--cfg-options',
        'test_cfg.type=hjepa.ProtocolTestLoop'
    ],
                            cwd=REPO,
                            env=env,
                            capture_output=True,
                            text=True)
    assert 'need test_cfg.type' not in result.stderr
    assert "protocols ['nonexistent'] are not configured" in result.stderr


def test_level_gradients_tool(tmp_path, cifar_root):
    out = tmp_path / 'grads.json'
    result = run([
        sys.executable, 'tools/analysis_tools/level_gradients.py', SMOKE,
        '--batches', '1', '--batch-size', '8', '--out',
        str(out), '--cfg-options',
        f'train_dataloader.dataset.data_root={cifar_root}'
    ])
    assert '| loss_level0 |' in result.stdout
    terms = json.loads(out.read_text())['terms']
    assert terms['loss_level0']['backbone']['ratio'] == pytest.approx(1.0)
    assert terms['loss_level0']['backbone']['cosine'] == pytest.approx(
        1.0, abs=1e-4)
    assert len(terms) > 1  # the smoke config's coarse levels
    bad = subprocess.run([
        sys.executable, 'tools/analysis_tools/level_gradients.py', SMOKE,
        '--batches', '0'
    ],
                         cwd=REPO,
                         capture_output=True,
                         text=True)
    assert bad.returncode == 2 and '--batches 0 must be >= 1' in bad.stderr
