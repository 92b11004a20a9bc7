# Coarse levels on what the context does not show: the CPU default's centred
# 2x2 and 4x4 region levels, scoring only the regions of which at least half
# the patches lie in the target blocks (region levels' min_hidden=0.5), so a
# coarse level asks for the gist of hidden areas instead of also summarising
# areas the context sees. Same queries, same cost as the default; against
# one-level I-JEPA at an equal wall-clock budget.
# Measured (AMD EPYC Zen 2, fp32, side by side, one thread each, seed 0,
# commit 9320da9): I-JEPA 34.65 (841 iterations) against 28.36 (752).
#   python tools/analysis_tools/ablation.py \
#       configs/ablations/hidden_regions.py --parallel 2
budget_minutes = 30
seeds = (0, 1)
# the CPU default before the multiway predictor (8b523fd), as these arms ran
_cfg = ('configs/hjepa/'
        'hjepa_vit-tiny-d6-p4_shared-predictor_1xb128-22e_cifar10.py')
arms = [
    dict(
        name='I-JEPA (patch level only)',
        config=_cfg,
        cfg_options={
            'model.head.levels': [dict(kind='patch')],
            'model.head.level_weights': (1.0, )
        }),
    dict(
        name='centred regions, hidden ones only (min_hidden 0.5)',
        config=_cfg,
        cfg_options={
            'model.head.levels': [
                dict(kind='patch'),
                dict(kind='region', grid=2, center=True, min_hidden=0.5),
                dict(kind='region', grid=4, center=True, min_hidden=0.5)
            ],
            'model.head.level_weights': (1.0, 0.5, 0.5)
        }),
]
