# After hjepa_vs_ijepa_30min.py (the 2x2 + whole-image query levels lost to
# I-JEPA at 30 minutes): is it the whole-image level, or what every region
# target shares with its image? Two H-JEPA arms at the same 30-minute budget
# and seed as that comparison, against its I-JEPA arm: 2x2 and 4x4 region
# levels, plain and centred (HierarchicalLatentHead region center=True:
# the image's mean target token is subtracted before pooling).
#   python tools/analysis_tools/ablation.py \
#       configs/ablations/centred_regions_30min.py --parallel 2
budget_minutes = 30
seeds = (0, )
# the CPU default before the multiway predictor (8b523fd), as these arms ran
_cfg = ('configs/hjepa/'
        'hjepa_vit-tiny-d6-p4_shared-predictor_1xb128-22e_cifar10.py')
_patch = dict(kind='patch')
arms = [
    dict(
        name='H-JEPA, centred 2x2 + 4x4 regions',
        config=_cfg,
        cfg_options={
            'model.head.levels': [
                _patch,
                dict(kind='region', grid=2, center=True),
                dict(kind='region', grid=4, center=True)
            ],
            'model.head.level_weights': (1.0, 0.5, 0.5)
        }),
    dict(
        name='H-JEPA, 2x2 + 4x4 regions',
        config=_cfg,
        cfg_options={
            'model.head.levels':
            [_patch,
             dict(kind='region', grid=2),
             dict(kind='region', grid=4)],
            'model.head.level_weights': (1.0, 0.5, 0.5)
        }),
]
