# A level at patch granularity over the whole image: besides the CPU
# default's levels (the target-block patches, the centred 2x2 quadrants and
# 4x4 cells of the image), one query token per patch of the 8x8 grid
# (dict(kind='region', grid=8, center=True)), each predicting its patch's
# target token, centred on the image's mean token, from the context. Unlike
# the target-block patch level it also asks for the patches the context
# shows, whose context tokens saw a colour-jittered view (BatchColorJitter
# jitters the context encoder's input only): the region levels that cover
# visible areas are what measured well (the hidden-regions-only arm lost,
# configs/ablations/hidden_regions.py), and this is the finest such level.
# Costs 64 query tokens in the predictor's last block (query_depth=1).
# At an equal wall-clock budget of 30 minutes, one runner per core, one
# thread each:
#   python tools/analysis_tools/ablation.py configs/ablations/dense_level.py \
#       --seeds S --cores 0 --margin 1.0 --timing-steps 40 --arms ARM
# and the same with --cores 1 and the other arm.
budget_minutes = 30
seeds = (0, 1)
# the CPU default of a2a31bf (three levels), as these arms ran; the second
# arm is the CPU default since
_cfg = ('configs/hjepa/'
        'hjepa_vit-tiny-d6-p4_regions-2-4_1xb128-22e_cifar10.py')
_region = dict(kind='region', center=True)
arms = [
    dict(name='H-JEPA, three levels (the default of a2a31bf)', config=_cfg),
    dict(
        name='H-JEPA + the whole-image patch level',
        config=_cfg,
        cfg_options={
            'model.head.levels': [
                dict(kind='patch'),
                dict(_region, grid=2),
                dict(_region, grid=4),
                dict(_region, grid=8),
            ],
            'model.head.level_weights': (1.0, 1.0, 1.0, 1.0)
        }),
    # the I-JEPA arm of configs/ablations/query_depth.py, unchanged
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
