# How many levels: the CPU default with 1 (I-JEPA's loss), 2, 3 (the
# default) and 4 levels, at an equal wall-clock budget of 8 minutes of
# training each, one seed. Coarse levels are region query tokens
# (HierarchicalLatentHead kind='region'), weight 0.5 each: centred 2x2
# quadrants, centred 4x4 cells, and for the fourth the whole image
# (uncentred: a centred whole-image target is zero).
#   python tools/analysis_tools/ablation.py configs/ablations/levels.py \
#       --parallel 2
budget_minutes = 8
seeds = (0, )
# the CPU default before the multiway predictor (8b523fd), as these arms ran
_cfg = ('configs/hjepa/'
        'hjepa_vit-tiny-d6-p4_shared-predictor_1xb128-22e_cifar10.py')
_patch = dict(kind='patch')


def _region(grid, center=True):
    return dict(kind='region', grid=grid, center=center)


arms = [
    dict(
        name='1 level (patch)',
        config=_cfg,
        cfg_options={
            'model.head.levels': [_patch],
            'model.head.level_weights': (1.0, )
        }),
    dict(
        name='2 levels (patch, centred 2x2)',
        config=_cfg,
        cfg_options={
            'model.head.levels': [_patch, _region(2)],
            'model.head.level_weights': (1.0, 0.5)
        }),
    dict(name='3 levels (patch, centred 2x2 and 4x4; default)', config=_cfg),
    dict(
        name='4 levels (patch, centred 2x2 and 4x4, whole image)',
        config=_cfg,
        cfg_options={
            'model.head.levels':
            [_patch, _region(2),
             _region(4),
             _region(1, center=False)],
            'model.head.level_weights': (1.0, 0.5, 0.5, 0.5)
        }),
]
