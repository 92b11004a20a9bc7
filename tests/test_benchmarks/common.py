"""Shared bits of the transfer tests: benchmark configs on tiny models."""
import os.path as osp

import torch
from mmengine import DefaultScope
from mmengine.config import Config
from mmengine.registry import MODELS as ROOT_MODELS
from mmengine.runner import Runner
from mmengine.utils import import_modules_from_strings

from hjepa.registry import MODELS
from tests.helpers import REPO

BENCH = osp.join(REPO, 'configs', 'benchmarks')
DET_COMPOSITE = osp.join(
    BENCH, 'mmdet', 'mask-rcnn_hjepa-vit-tiny-d6-p4_simple-fpn_1xb16-800i_'
    'cifar-composite.py')
SEG_COMPOSITE = osp.join(
    BENCH, 'mmseg',
    'upernet_hjepa-vit-tiny-d6-p4_1xb16-800i_cifar-composite.py')
DET_COCO = osp.join(
    BENCH, 'mmdet',
    'mask-rcnn_hjepa-vit-b-p16_simple-fpn_16xb4-lsj-100e_coco.py')
SEG_ADE20K = osp.join(BENCH, 'mmseg',
                      'upernet_hjepa-vit-b-p16_8xb2-160k_ade20k-512x512.py')
MAKE_TRAIN = osp.join(REPO, 'configs', 'hjepa',
                      'hjepa_vit-tiny-d6-p4_1xb128-22e_cifar10.py')
VIT_B = osp.join(REPO, 'configs', 'hjepa', 'vit-b_in1k.py')
# Four blocks: the segmentor needs four distinct out_indices (0-3 here).
TINY_ARCH = dict(name='tiny', num_layers=4)


def load_benchmark_config(path: str, **backbone) -> Config:
    """A benchmark config with its custom imports done and ``backbone``
    merged into ``model.backbone``."""
    cfg = Config.fromfile(path)
    import_modules_from_strings(**cfg.custom_imports)
    cfg.merge_from_dict({
        f'model.backbone.{k}': v
        for k, v in backbone.items()
    })
    return cfg


def build_and_init(cfg: Config) -> torch.nn.Module:
    """The config's detector or segmentor, with ``init_weights`` run."""
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = ROOT_MODELS.build(cfg.model)
        model.init_weights()
    return model


def save_pretrain_checkpoint(path: str,
                             config: str = MAKE_TRAIN,
                             **overrides) -> dict:
    """Save an ``HJEPA`` checkpoint of ``config`` whose target encoder
    differs from its context encoder, as after EMA updates.

    Args:
        path: Where to save it.
        config: The pretraining config whose ``model`` is built.
        overrides: Merged into ``cfg.model``, e.g.
            ``backbone=dict(arch=TINY_ARCH)``.

    Returns:
        The model's state dict.
    """
    cfg = Config.fromfile(config)
    cfg.merge_from_dict({'model': overrides})
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    with torch.no_grad():
        for p in model.target_encoder.parameters():
            p.add_(torch.randn_like(p) * 0.01)
    state_dict = model.state_dict()
    torch.save(dict(meta=dict(epoch=1, iter=10), state_dict=state_dict), path)
    return state_dict


def shrink(cfg: Config,
           work_dir: str,
           data_root: str,
           name: str,
           iters: int = 2) -> Config:
    """A benchmark config cut to ``iters`` iterations of 2 images on the
    composite set at ``data_root``, quiet, writing under ``work_dir``."""
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = name
    cfg.log_level = 'WARNING'
    cfg.visualizer.name = name
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].batch_size = 2
        cfg[key].dataset.data_root = data_root
    for key in ('val_evaluator', 'test_evaluator'):
        if 'ann_file' in cfg[key]:  # the config's file, under data_root
            cfg[key].ann_file = osp.join(
                data_root, osp.relpath(cfg[key].ann_file, cfg.data_root))
    cfg.train_cfg.max_iters = iters
    cfg.train_cfg.val_interval = iters
    return cfg


def fine_tune_tiny(path: str, work_dir, data_root: str, checkpoint: str,
                   **backbone):
    """Train ``path`` for 2 iterations and evaluate it, with a 4-block
    backbone loaded from ``checkpoint``; check the run and return its
    runner."""
    cfg = load_benchmark_config(
        path,
        arch=TINY_ARCH,
        init_cfg=dict(
            type='Pretrained', checkpoint=checkpoint, prefix='backbone.'),
        **backbone)
    shrink(cfg, work_dir, data_root, f'test-{cfg.default_scope}')
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        runner = Runner.from_cfg(cfg)
        runner.train()
    loss = runner.message_hub.get_scalar('train/loss').current()
    assert torch.isfinite(torch.tensor(loss))
    assert osp.exists(osp.join(str(work_dir), 'iter_2.pth'))

    # fine-tuned from the checkpoint: loaded, then changed by the optimizer
    start = torch.load(checkpoint, weights_only=True)
    start = start['state_dict']['backbone.blocks.0.mlp.fc1.weight']
    now = runner.model.backbone.blocks[0].mlp.fc1.weight.detach()
    assert 0 < (now - start).abs().max() < 0.01
    return runner
