"""OnlineKNNHook in a real Runner."""
import json

import pytest
from mmengine.runner import Runner

from hjepa.engine import OnlineKNNHook
from tests.helpers import smoke_config


def test_scores_every_epoch_and_logs(tmp_path, cifar_root):
    cfg = smoke_config(tmp_path, cifar_root, 'online_knn')
    cfg.custom_hooks.append(
        dict(
            type='OnlineKNNHook',
            interval=1,
            bank_size=300,
            query_size=100,
            ks=(5, 20)))
    runner = Runner.from_cfg(cfg)
    runner.train()
    hook = next(h for h in runner.hooks if isinstance(h, OnlineKNNHook))
    assert [it for it, _ in hook.history] == [8, 16]  # 2 epochs of 8 iters
    for _, metrics in hook.history:
        assert 0.0 <= metrics['top1_k20'] <= 100.0
        assert metrics['seconds'] > 0
    rows = [
        json.loads(line) for line in next(
            tmp_path.glob('*/vis_data/scalars.json')).read_text().splitlines()
    ]
    logged = [r for r in rows if 'online_knn/top1_k5' in r]
    assert [r['step'] for r in logged] == [8, 16]


def test_needs_data(tmp_path, cifar_root):
    cfg = smoke_config(tmp_path, cifar_root, 'online_knn_no_data')
    cfg.test_cfg = None
    cfg.test_dataloader = None
    cfg.test_evaluator = None
    cfg.custom_hooks.append(dict(type='OnlineKNNHook'))
    runner = Runner.from_cfg(cfg)
    with pytest.raises(ValueError, match='bank_dataset'):
        runner.train()
