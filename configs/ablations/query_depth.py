# The coarse levels' query tokens in the last blocks of the predictor only
# (model.predictor.query_depth): before them the context and the target
# blocks run as without queries, then the queries read the context's keys
# and values of the last blocks through their own weights. A cheaper
# hierarchy step (the query stream runs through fewer blocks); does it
# still learn what the full stream learns? The CPU default's predictor has
# four blocks. At an equal wall-clock budget of 30 minutes, two arms side
# by side (one runner per core, one thread each):
#   python tools/analysis_tools/ablation.py configs/ablations/query_depth.py \
#       --seeds S --cores 0 --margin 1.0 --timing-steps 40 --arms ARM
# and the same with --cores 1 and the other arm of the pair.
# Screened at 20 minutes (--budget-min 20), seed 0, queries in the last
# block against the default, side by side (AMX machine, commit 7878469):
# 43.18 (1,846 iterations) against 41.20 (1,740); one seed.
# At 30 minutes, queries in the last block against I-JEPA, two seeds, the
# arms of a seed side by side (AMX machine, commit 6901e9c): 46.88 / 45.27
# against 45.03 / 44.20 (2,615 / 2,539 against 2,715 / 2,794 iterations),
# +1.46 on the mean, both above both; the CPU default since.
budget_minutes = 30
seeds = (0, 1)
# the CPU default of 8b523fd-6901e9c (queries in every predictor block), as
# these arms ran; the arm names are kept, so the commands of docs/results.md
# and work dirs still match
_cfg = ('configs/hjepa/'
        'hjepa_vit-tiny-d6-p4_full-queries_1xb128-22e_cifar10.py')
arms = [
    dict(name='H-JEPA (the CPU default)', config=_cfg),
    dict(
        name='H-JEPA, queries in the last 2 predictor blocks',
        config=_cfg,
        cfg_options={'model.predictor.query_depth': 2}),
    dict(
        name='H-JEPA, queries in the last predictor block',
        config=_cfg,
        cfg_options={'model.predictor.query_depth': 1}),
    dict(
        name='I-JEPA (patch level only)',
        config=_cfg,
        cfg_options={
            'model.predictor.multiway': False,
            'model.head.levels': [dict(kind='patch')],
            'model.head.level_weights': (1.0, )
        }),
]
