# Screening, second round: on the query-level hierarchy with EMA from 0.99
# (the one change of screen_recipe.py that helped), multi-crop and the
# optimisation speed, at 12 minutes, one seed.
#   python tools/analysis_tools/ablation.py \
#       configs/ablations/screen_recipe2.py --parallel 2
budget_minutes = 12
seeds = (0, )
# the CPU default before the multiway predictor (8b523fd), as these arms ran
_cfg = ('configs/hjepa/'
        'hjepa_vit-tiny-d6-p4_shared-predictor_1xb128-22e_cifar10.py')
_base = {
    'model.head.levels': [
        dict(kind='patch'),
        dict(kind='region', grid=2),
        dict(kind='region', grid=1)
    ],
    'model.head.level_weights': (1.0, 0.5, 0.5),
    'model.predictor.shared_context':
    True,
    'custom_hooks.0.momentum':
    0.99,
}
arms = [
    dict(name='query levels, EMA 0.99', config=_cfg, cfg_options=_base),
    dict(
        name='+ 2 crops of 16 px',
        config=_cfg,
        cfg_options={
            **_base, 'model.multi_crop':
            dict(num_crops=2, size=16, scale=(0.1, 0.4))
        }),
    dict(
        name='EMA 0.98',
        config=_cfg,
        cfg_options={
            **_base, 'custom_hooks.0.momentum': 0.98
        }),
    dict(
        name='+ lr 5e-4',
        config=_cfg,
        cfg_options={
            **_base, 'optim_wrapper.optimizer.lr': 5e-4
        }),
]
