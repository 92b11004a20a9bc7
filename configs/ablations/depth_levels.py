# Levels in depth instead of space (HierarchicalLatentHead's
# dict(kind='depth', layer=k)): at every target patch, besides the last
# block's token (I-JEPA's target), predict the layer-normalised output of a
# shallower target-encoder block from the predictor's hidden state at the
# same relative depth, through the level's own norm and head. Unlike the
# region levels these add no tokens, only a small head per level, so a
# depth hierarchy costs about what I-JEPA costs.
# The 6-block encoder and 4-block predictor of the CPU default: block 3 is
# read from predictor block 2, block 1 from predictor block 0.
#   python tools/analysis_tools/ablation.py configs/ablations/depth_levels.py \
#       --parallel 2
# Measured (AMD EPYC Zen 2, fp32, the first two arms side by side, one
# thread each, seeds 0 / 1): I-JEPA 35.10 / 35.61 (854 / 852 iterations)
# against patch + depth levels 34.67 / 30.85 (837 / 838): I-JEPA +2.6 on the
# mean. The third arm, seed 0 (commit 33a6b0d, beside I-JEPA): 29.39 (730
# iterations) against I-JEPA's 34.99 (814).
budget_minutes = 30
seeds = (0, 1)
# the CPU default before the multiway predictor (8b523fd), as these arms ran
_cfg = ('configs/hjepa/'
        'hjepa_vit-tiny-d6-p4_shared-predictor_1xb128-22e_cifar10.py')
_depth = [dict(kind='depth', layer=3), dict(kind='depth', layer=1)]
arms = [
    dict(
        name='I-JEPA (patch level only)',
        config=_cfg,
        cfg_options={
            'model.head.levels': [dict(kind='patch')],
            'model.head.level_weights': (1.0, )
        }),
    dict(
        name='patch + depth levels (blocks 3 and 1)',
        config=_cfg,
        cfg_options={
            'model.head.levels': [dict(kind='patch')] + _depth,
            'model.head.level_weights': (1.0, 0.5, 0.5)
        }),
    dict(
        name="the CPU default's levels + depth levels",
        config=_cfg,
        cfg_options={
            'model.head.levels': [
                dict(kind='patch'),
                dict(kind='region', grid=2, center=True),
                dict(kind='region', grid=4, center=True)
            ] + _depth,
            'model.head.level_weights': (1.0, 0.5, 0.5, 0.5, 0.5)
        }),
]
