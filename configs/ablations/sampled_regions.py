# The four-level CPU default of e111402-db237f7 (the all-patches leaf) with
# its finest region level (every patch of the 8x8 grid, centred) asking
# only a random 16 of its 64 patches per step
# (dict(kind='region', grid=8, center=True, sample=16); the 16 drawn afresh
# each step, the same for the whole batch): 36 query tokens in the
# predictor's last block instead of 84, for a cheaper step (issue 10: the
# four-level step is 1.12x the one-level step on Zen 3, 1.23x on AMX, one
# thread; docs/results.md "Throughput of the CPU default"). Over many steps
# every patch is asked about as often as before, a quarter as many at a time.
# At an equal wall-clock budget of 30 minutes, one runner per core, one thread
# each:
#   python tools/analysis_tools/ablation.py \
#       configs/ablations/sampled_regions.py --seeds S --cores 0 \
#       --margin 1.0 --timing-steps 40 --arms ARM
# and the same with --cores 1 and the other arm.
budget_minutes = 30
seeds = (0, 1)
# the CPU default of e111402-db237f7, as these arms ran (the default since
# asks 16 of the 64 patches per step, the second arm)
_cfg = ('configs/hjepa/'
        'hjepa_vit-tiny-d6-p4_all-patches_1xb128-22e_cifar10.py')
_region = dict(kind='region', center=True)
arms = [
    dict(name='H-JEPA, four levels (the CPU default)', config=_cfg),
    dict(
        name='H-JEPA, four levels, 16 of the 64 patches per step',
        config=_cfg,
        cfg_options={
            'model.head.levels': [
                dict(kind='patch'),
                dict(_region, grid=2),
                dict(_region, grid=4),
                dict(_region, grid=8, sample=16),
            ]
        }),
    # the I-JEPA arm of configs/ablations/dense_level.py, unchanged
    dict(
        name='I-JEPA (patch level only)',
        config=('configs/hjepa/'
                'hjepa_vit-tiny-d6-p4_full-queries_1xb128-22e_cifar10.py'),
        cfg_options={
            'model.predictor.multiway': False,
            'model.head.levels': [dict(kind='patch')],
            'model.head.level_weights': (1.0, )
        }),
]
