"""ProtocolTestLoop: every protocol on the model and both baselines, with a
report, in a real Runner on the smoke config."""
import json

import numpy as np
import pytest
import torch
from matplotlib import colormaps
from mmengine.runner import Runner
from PIL import Image

from hjepa.registry import MODELS
from tests.helpers import knn_by_hand, smoke_config
from tests.test_visualization.test_plots import pixels, share_near

SUBJECTS = ('model', 'random_init', 'raw_pixels')


def _cheap_protocols(cfg):
    p = cfg.test_cfg.protocols
    p.linear_probe.update(epochs=3, lrs=(1e-3, 1e-2))
    p.few_shot.update(episodes=10, n_query=5)
    p.feature_quality.update(num_samples=64)
    p.finetune.update(epochs=1, batch_size=64, max_train_samples=256)


class Pixels(torch.nn.Module):
    """The raw-pixel baseline as an "encoder": one token, the flat image."""

    def forward(self, x):
        return [x.flatten(1)[:, None]]


def random_encoder(cfg, seed=0):
    """The random-init baseline as documented: the config's backbone,
    initialised under ``torch.manual_seed(seed)``."""
    encoder = MODELS.build(dict(cfg.model.backbone, init_cfg=None))
    torch.manual_seed(seed)
    encoder.init_weights()
    return encoder


@pytest.mark.slow
def test_all_protocols_with_baselines_and_report(tmp_path, cifar_root):
    cfg = smoke_config(tmp_path, cifar_root, 'protocols_all')
    _cheap_protocols(cfg)
    cfg.test_cfg.update(
        run='all', subjects=SUBJECTS, report_dir=str(tmp_path / 'report'))
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    # each subject's k-NN is its own features', worked out by hand
    model = runner.model
    encoders = dict(
        model=model.target_encoder,
        random_init=random_encoder(cfg),
        raw_pixels=Pixels())
    for subject, encoder in encoders.items():
        expected = knn_by_hand(model, encoder, cfg)
        assert abs(metrics[f'{subject}/knn/top1_k20'] - expected) < 1e-6
        # a top-1 over 200 test images is a multiple of 0.5 (float32 mean)
        for key in ('linear_probe/avg/top1', 'finetune/top1'):
            if subject != 'raw_pixels' or key.startswith('linear'):
                half_points = 2 * metrics[f'{subject}/{key}']
                assert abs(half_points - round(half_points)) < 1e-4
        assert f'{subject}/few_shot/10way10shot/ci95' in metrics
        assert metrics[f'{subject}/feature_quality/image/rank'] >= 1
    for subject in ('model', 'random_init'):
        assert f'{subject}/linear_probe/cat4/top1' in metrics
        assert f'{subject}/feature_quality/level2/rank' in metrics
    assert 'raw_pixels/finetune/top1' not in metrics  # nothing to tune

    report = tmp_path / 'report'
    data = json.loads((report / 'report.json').read_text())
    assert data['metrics']['model']['knn']['top1_k20'] == metrics[
        'model/knn/top1_k20']
    assert data['num_test'] == 200 and data['num_train'] == 500
    md = (report / 'report.md').read_text()
    assert '| knn/top1_k20 |' in md and 'raw pixels' in md
    # one 5-inch t-SNE panel per subject at 110 dpi, every class's colour
    # in it; 8 test images in the mask plot, 1.6 inches each
    tsne = report / 'tsne.png'
    assert Image.open(tsne).size == (1650, 550)
    rgb = pixels(tsne)
    for c in range(10):
        colour = np.array(colormaps['tab10'](c)[:3]) * 255
        assert share_near(rgb, colour) > 0, f'class {c} not drawn'
    assert Image.open(report / 'masks.png').size == (1408, 374)


def test_unknown_protocol_is_refused(tmp_path, cifar_root):
    cfg = smoke_config(tmp_path, cifar_root, 'protocols_bad')
    cfg.test_cfg.run = ('knn', 'linear')
    with pytest.raises(ValueError, match="\\['linear'\\] are not configured"):
        Runner.from_cfg(cfg).test()


def test_few_shot_settings_the_data_cannot_hold_are_skipped():
    import torch

    from hjepa.evaluation import EvalData, EvalSubject, FewShotProtocol
    labels = torch.arange(10).repeat(20)  # 20 images a class
    feats = torch.eye(10)[labels]
    data = EvalData(labels, labels)  # features only, no images
    subject = EvalSubject('model', dict(avg=(feats, feats)))
    out = FewShotProtocol(
        settings=((5, 1), (10, 10)), episodes=5, n_query=15)(subject, data)
    assert out['5way1shot/top1'] == 100.0
    assert not any(k.startswith('10way10shot') for k in out)


def test_feature_protocols_stream_without_images(tmp_path, cifar_root,
                                                 monkeypatch):
    """k-NN, linear probe and few-shot read features only: the loop never
    holds the images (so ImageNet-sized sets fit), and scores as with
    them; a protocol that needs images asks for them."""
    from hjepa.evaluation import ProtocolTestLoop
    cfg = smoke_config(tmp_path, cifar_root, 'protocols_stream')
    _cheap_protocols(cfg)
    cfg.randomness = dict(seed=0)
    cfg.test_cfg.update(run=('knn', 'linear_probe', 'few_shot'))
    runner = Runner.from_cfg(cfg)
    assert not runner.test_loop.needs_images

    def no_images(self, loader):
        raise AssertionError('images were loaded')

    with monkeypatch.context() as m:
        m.setattr(ProtocolTestLoop, '_images', no_images)
        streamed = runner.test()
    cfg = smoke_config(tmp_path / 'b', cifar_root, 'protocols_images')
    _cheap_protocols(cfg)
    cfg.randomness = dict(seed=0)
    cfg.test_cfg.update(run=('knn', 'linear_probe', 'few_shot', 'finetune'))
    runner = Runner.from_cfg(cfg)
    assert runner.test_loop.needs_images  # fine-tuning trains on them
    with_images = runner.test()
    for key, value in streamed.items():
        if key.endswith('seconds'):
            continue
        assert abs(value - with_images[key]) < 1e-6, key


def test_a_protocol_needing_images_says_so():
    import torch

    from hjepa.evaluation import EvalData, EvalSubject, FeatureQualityProtocol
    labels = torch.arange(10)
    subject = EvalSubject('model', dict(avg=(torch.rand(10, 4), ) * 2))
    with pytest.raises(
            ValueError,
            match='FeatureQualityProtocol needs the '
            'images of both splits'):
        FeatureQualityProtocol(num_samples=4)(subject,
                                              EvalData(labels, labels))
