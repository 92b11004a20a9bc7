"""OnlineKNNHook in a real Runner."""
import json

import pytest
from mmengine.runner import Runner

from hjepa.engine import OnlineKNNHook
from tests.helpers import knn_by_hand, smoke_config


def test_scores_every_epoch_and_logs(tmp_path, cifar_root):
    cfg = smoke_config(tmp_path, cifar_root, 'online_knn')
    cfg.custom_hooks.append(
        dict(
            type='OnlineKNNHook',
            interval=1,
            bank_size=500,  # the smoke config's whole bank and test sets
            query_size=200,
            ks=(5, 20)))
    runner = Runner.from_cfg(cfg)
    runner.train()
    hook = next(h for h in runner.hooks if isinstance(h, OnlineKNNHook))
    assert [it for it, _ in hook.history] == [8, 16]  # 2 epochs of 8 iters
    for _, metrics in hook.history:
        assert metrics['seconds'] > 0
    # the last check scored the trained target encoder, as worked out by hand
    model = runner.model
    expected = knn_by_hand(model, model.target_encoder, cfg)
    assert abs(hook.history[-1][1]['top1_k20'] - expected) < 1e-6
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
