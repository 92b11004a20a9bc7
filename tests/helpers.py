"""Shared bits of the tests that run a real Runner."""
import os.path as osp

from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
SMOKE = osp.join(REPO, 'configs', 'hjepa',
                 'hjepa_vit-tiny-p4_smoke_cifar10.py')


def load_tool(path, name=None):
    """The script ``path`` (relative to the repository, e.g.
    ``'tools/train.py'``) imported as a module, to call its functions."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        name or osp.splitext(osp.basename(path))[0] + '_tool',
        osp.join(REPO, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


def knn_by_hand(model, encoder, cfg, k=20, temperature=0.07):
    """k-NN top-1 (%) of ``encoder`` on the bank and test splits of
    ``cfg``, worked out here without the evaluation package's loaders,
    feature path or loops: each dataset indexed in order, batches made by
    ``model``'s data preprocessor, features the last layer's token average.
    Only :func:`knn_accuracy` is shared (it has known-answer tests of its
    own). The answer a tool, loop or hook must reproduce."""
    import torch
    from mmengine.dataset import default_collate

    from hjepa.evaluation.knn import knn_accuracy
    from hjepa.registry import DATASETS

    def features(dataset_cfg):
        dataset = DATASETS.build(dataset_cfg)
        xs, ys = [], []
        for start in range(0, len(dataset), 100):
            batch = default_collate([
                dataset[i]
                for i in range(start, min(start + 100, len(dataset)))
            ])
            data = model.data_preprocessor(batch, False)
            xs.append(encoder(data['inputs'])[-1].mean(1))
            ys.append(data['data_samples'])
        return torch.cat(xs), torch.cat(ys)

    encoder.eval()
    with torch.no_grad():
        bank = features(cfg.test_cfg.bank_dataloader.dataset)
        query = features(cfg.test_dataloader.dataset)
    return knn_accuracy(*bank, *query, (k, ), temperature)[f'top1_k{k}']


def load_smoke_model(checkpoint, cfg=None):
    """The smoke config's model with ``checkpoint``'s state dict, strictly
    loaded by hand (``torch.load``, ``load_state_dict``)."""
    import torch

    from hjepa.registry import MODELS
    from hjepa.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    cfg = cfg or Config.fromfile(SMOKE)
    model = MODELS.build(cfg.model)
    state = torch.load(checkpoint, weights_only=True)['state_dict']
    model.load_state_dict(state)
    return model.eval()
