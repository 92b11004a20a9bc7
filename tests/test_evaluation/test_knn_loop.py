"""KNNTestLoop (the streaming k-NN loop of the ImageNet configs) scores as
the protocol suite's k-NN does."""
from mmengine.runner import Runner

from tests.helpers import smoke_config


def _scores(tmp_path, cifar_root, name, **test_cfg):
    cfg = smoke_config(tmp_path / name, cifar_root, name)
    cfg.randomness = dict(seed=0)  # the same initial weights in both
    bank = cfg.test_cfg.bank_dataloader
    cfg.test_cfg = dict(bank_dataloader=bank, **test_cfg)
    return Runner.from_cfg(cfg).test()


def test_streaming_and_protocol_knn_agree(tmp_path, cifar_root):
    streamed = _scores(
        tmp_path,
        cifar_root,
        'stream',
        type='KNNTestLoop',
        ks=(10, 20),
        temperature=0.07)
    suite = _scores(
        tmp_path,
        cifar_root,
        'suite',
        type='ProtocolTestLoop',
        protocols=dict(
            knn=dict(type='KNNProtocol', ks=(10, 20), temperature=0.07)),
        run=('knn', ),
        subjects=('model', ))
    for k in (10, 20):
        key = f'model/knn/top1_k{k}'
        # 200 queries: one query is 0.5 points; equal features, equal votes
        assert abs(streamed[key] - suite[key]) < 1e-6, (k, streamed, suite)
