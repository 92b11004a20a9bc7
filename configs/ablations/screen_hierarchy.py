# Screening: what the coarse levels predict, and the predictor's layout.
# Every arm is the CPU default recipe (configs/hjepa/hjepa_vit-tiny-d6-p4_
# 1xb128-22e_cifar10.py) but for the options shown.
#   python tools/analysis_tools/ablation.py \
#       configs/ablations/screen_hierarchy.py --parallel 2
budget_minutes = 12
seeds = (0, )
# the CPU default before the multiway predictor (8b523fd), as these arms ran
_cfg = ('configs/hjepa/'
        'hjepa_vit-tiny-d6-p4_shared-predictor_1xb128-22e_cifar10.py')
_patch = dict(kind='patch')
arms = [
    dict(
        name='I-JEPA',
        config=_cfg,
        cfg_options={
            'model.head.levels': [_patch],
            'model.head.level_weights': (1.0, )
        }),
    dict(name='window levels (2x2, 4x4)', config=_cfg),
    dict(
        name='I-JEPA, shared context',
        config=_cfg,
        cfg_options={
            'model.head.levels': [_patch],
            'model.head.level_weights': (1.0, ),
            'model.predictor.shared_context': True
        }),
    dict(
        name='query levels (2x2, 1x1), shared context',
        config=_cfg,
        cfg_options={
            'model.head.levels':
            [_patch,
             dict(kind='region', grid=2),
             dict(kind='region', grid=1)],
            'model.head.level_weights': (1.0, 0.5, 0.5),
            'model.predictor.shared_context':
            True
        }),
]
