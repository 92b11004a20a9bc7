"""Every config under configs/ and projects/ parses and builds its model."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.utils import import_modules_from_strings

from hjepa.registry import HOOKS, MODELS
from tests.helpers import REPO

CONFIGS = sorted(
    glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True) +
    glob.glob(osp.join(REPO, 'projects', '*', 'configs', '*.py')))

# a CIFAR-10 CPU leaf by its name's stem
LEAF = osp.join(REPO, 'configs', 'hjepa', '{}_1xb128-22e_cifar10.py')


def _pretraining(path):
    """mmdet and mmseg configs build in their own scopes (tested in
    tests/test_benchmarks); the rest are H-JEPA configs."""
    return Config.fromfile(path).get('default_scope') in (None, 'hjepa')


ABLATIONS = sorted(glob.glob(osp.join(REPO, 'configs', 'ablations', '*.py')))
# export settings, no model (tests/test_tools/test_deployment.py)
DEPLOY = sorted(glob.glob(osp.join(REPO, 'configs', 'deploy', '*.py')))
CONFIGS = [
    c for c in CONFIGS if c not in ABLATIONS + DEPLOY and _pretraining(c)
]
LEAVES = [c for c in CONFIGS if '_base_' not in c]


def test_found_configs():
    assert len(LEAVES) >= 10


@pytest.mark.parametrize(
    'path', CONFIGS, ids=[osp.relpath(c, REPO) for c in CONFIGS])
def test_parses(path):
    cfg = Config.fromfile(path)
    assert cfg is not None


@pytest.mark.parametrize(
    'path', LEAVES, ids=[osp.relpath(c, REPO) for c in LEAVES])
def test_builds_model(path):
    cfg = Config.fromfile(path)
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    assert cfg.default_scope == 'hjepa'
    model = MODELS.build(cfg.model)
    if osp.basename(osp.dirname(path)) == 'ijepa':
        assert model.num_levels == 1
        assert not model.predictor.shared_context  # I-JEPA's layout
    if 'benchmarks' in path:  # names a protocol it configures
        assert all(p in cfg.test_cfg.protocols for p in cfg.test_cfg.run)


def test_vit_b_in1k_is_a_vit_b16():
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'hjepa', 'vit-b_in1k.py'))
    model = MODELS.build(cfg.model)
    params = sum(p.numel() for p in model.backbone.parameters())
    assert 85e6 < params < 87e6
    assert model.backbone.patch_size == 16
    assert model.backbone.img_size == (224, 224)
    assert model.num_levels == 3
    assert model.head.queries((14, 14), 'cpu')[1] == (4, 16)
    assert cfg.train_dataloader.batch_size == 256
    assert cfg.train_cfg.max_epochs == 300


@pytest.mark.parametrize(
    'path', ABLATIONS, ids=[osp.relpath(c, REPO) for c in ABLATIONS])
def test_ablation_arms_build(path):
    """Every arm of every ablation file resolves and builds its model."""
    from hjepa.utils import load_config
    ablation = Config.fromfile(path)
    assert ablation.budget_minutes > 0 and ablation.arms
    for arm in ablation.arms:
        cfg = load_config(osp.join(REPO, arm.config), arm.get('cfg_options'))
        MODELS.build(cfg.model)
        for hook in arm.get('custom_hooks', []):
            HOOKS.build(hook)


def test_the_default_is_the_all_patches_leaf_asking_16_patches_a_step():
    """The all-patches leaf is the three-level leaf (the default of a2a31bf,
    which the ablations that ran on it inherit) with one more level, a query
    per patch of the whole 8x8 grid; the default is that leaf with the
    grid-8 level asking a random 16 of its 64 patches per step, and nothing
    else. The two have the same weights, so a checkpoint of either loads
    strictly into the other."""
    default = Config.fromfile(LEAF.format('hjepa_vit-tiny-d6-p4'))
    every = Config.fromfile(LEAF.format('hjepa_vit-tiny-d6-p4_all-patches'))
    three = Config.fromfile(LEAF.format('hjepa_vit-tiny-d6-p4_regions-2-4'))
    model, full = MODELS.build(default.model), MODELS.build(every.model)
    assert model.num_levels == full.num_levels == 4
    assert model.head.queries((8, 8), 'cpu')[1] == (4, 16, 64)
    samples = [lv.get('sample') for lv in model.head.levels]
    assert samples == [None, None, None, 16]
    assert MODELS.build(three.model).num_levels == 3
    three.model.head.levels.append(dict(kind='region', grid=8, center=True))
    three.model.head.level_weights = (1.0, 1.0, 1.0, 1.0)
    assert three.to_dict() == every.to_dict()
    every.model.head.levels[3]['sample'] = 16
    assert every.to_dict() == default.to_dict()
    model.load_state_dict(full.state_dict(), strict=True)
    full.load_state_dict(model.state_dict(), strict=True)


def test_the_full_queries_leaf_is_the_three_levels_queried_in_every_block():
    """The three-level leaf runs the coarse levels' queries in the
    predictor's last block; the leaf that keeps the earlier default (every
    block) differs from it in that one setting, so the ablations that ran on
    the earlier default mean what they measured, and its checkpoints load
    there."""
    three = Config.fromfile(LEAF.format('hjepa_vit-tiny-d6-p4_regions-2-4'))
    full = Config.fromfile(LEAF.format('hjepa_vit-tiny-d6-p4_full-queries'))
    last = MODELS.build(three.model).predictor
    every = MODELS.build(full.model).predictor
    assert (len(last.query_blocks), len(every.query_blocks)) == (1, 4)
    assert full.model.predictor.query_depth is None
    full.model.predictor.query_depth = 1
    assert full.to_dict() == three.to_dict()


def test_the_vicreg_leaves_add_only_the_terms_to_their_defaults():
    """Each VICReg leaf is the default its main job ran on (the three-level
    default of a2a31bf; the full-queries one) with VICReg's terms at weight
    0.05 and nothing else, so its numbers say what the terms did."""
    pairs = [('hjepa_vit-tiny-d6-p4_regions-2-4',
              'hjepa_vit-tiny-d6-p4_vicreg'),
             ('hjepa_vit-tiny-d6-p4_full-queries',
              'hjepa_vit-tiny-d6-p4_full-queries-vicreg')]
    for name, with_terms in pairs:
        base = Config.fromfile(LEAF.format(name))
        vicreg = Config.fromfile(LEAF.format(with_terms))
        head = vicreg.model.head
        assert head.regularizer == dict(
            type='VarianceCovarianceReg', gamma=1.0, cov_weight=0.04), name
        assert head.reg_weight == 0.05, name
        base.model.head.regularizer = head.regularizer
        base.model.head.reg_weight = head.reg_weight
        assert vicreg.to_dict() == base.to_dict(), name
