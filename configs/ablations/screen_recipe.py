# Screening: recipe changes on top of the query-level hierarchy (patch,
# 2x2 regions, whole image; one shared-context predictor sequence), each
# alone against that arm, at 12 minutes, one seed.
#   python tools/analysis_tools/ablation.py \
#       configs/ablations/screen_recipe.py --parallel 2
budget_minutes = 12
seeds = (0, )
# the CPU default before the multiway predictor (8b523fd), as these arms ran
_cfg = ('configs/hjepa/'
        'hjepa_vit-tiny-d6-p4_shared-predictor_1xb128-22e_cifar10.py')
_query = {
    'model.head.levels': [
        dict(kind='patch'),
        dict(kind='region', grid=2),
        dict(kind='region', grid=1)
    ],
    'model.head.level_weights': (1.0, 0.5, 0.5),
    'model.predictor.shared_context':
    True,
}
arms = [
    dict(name='query levels', config=_cfg, cfg_options=_query),
    dict(
        name='+ SIGReg 0.02',
        config=_cfg,
        cfg_options={
            **_query, 'model.head.regularizer': dict(type='SIGReg'),
            'model.head.reg_weight': 0.02
        }),
    dict(
        name='+ EMA 0.99',
        config=_cfg,
        cfg_options={
            **_query, 'custom_hooks.0.momentum': 0.99
        }),
    dict(
        name='+ lr 2e-3',
        config=_cfg,
        cfg_options={
            **_query, 'optim_wrapper.optimizer.lr': 2e-3
        }),
    dict(
        name='+ targets: last 3 blocks',
        config=_cfg,
        cfg_options={
            **_query, 'model.head.target_layers': 3
        }),
    dict(
        name='+ level weights 1, 1, 1',
        config=_cfg,
        cfg_options={
            **_query, 'model.head.level_weights': (1.0, 1.0, 1.0)
        }),
    dict(
        name='+ 2 target blocks',
        config=_cfg,
        cfg_options={
            **_query, 'model.masker.num_targets': 2
        }),
]
