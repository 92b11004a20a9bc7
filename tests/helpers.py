"""Shared bits of the tests that run a real Runner."""
import os.path as osp

from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
SMOKE = osp.join(REPO, 'configs', 'hjepa',
                 'hjepa_vit-tiny-p4_smoke_cifar10.py')


def smoke_config(work_dir, cifar_root, name, **overrides):
    """The smoke config, quiet, local logs only, under ``work_dir``."""
    cfg = Config.fromfile(SMOKE)
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = name
    cfg.log_level = 'WARNING'
    cfg.visualizer = dict(
        type='Visualizer',
        name=name,
        vis_backends=[dict(type='LocalVisBackend')])
    cfg.train_dataloader.dataset.data_root = cifar_root
    cfg.test_dataloader.dataset.data_root = cifar_root
    cfg.test_cfg.bank_dataloader.dataset.data_root = cifar_root
    cfg.merge_from_dict(overrides)
    return cfg
