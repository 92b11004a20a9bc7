# An image level: the context encoder's average-pooled tokens (what k-NN and
# linear probes read) predict, through the level's own MLP, the normalised
# mean of the target encoder's tokens over the whole image (region levels ask
# the predictor's query tokens instead, and the pooled embedding is never
# asked anything). Two hierarchies with it, at an equal wall-clock budget:
# the patch level and the image level alone, and the CPU default's levels
# (patch, centred 2x2 and 4x4 regions) plus the image level; and one-level
# I-JEPA.
# Measured (AMD EPYC Zen 2, fp32, side by side, one thread each, commit
# 5ab71ce): seed 0, patch + image 33.15 (689 iterations) against the
# default's levels + image 30.38 (624); seed 1, I-JEPA 34.76 (671) against
# patch + image 33.23 (646).
#   python tools/analysis_tools/ablation.py configs/ablations/image_level.py \
#       --parallel 2
# The last two arms (the multiway default), seed 0, side by side on the
# AMX machine (one runner per core, one thread each, --margin 1.0
# --timing-steps 40, commit 7878469): default + image level 45.44 (2,488
# iterations), patch + image level 45.69 (2,870), within a point of the
# default's 44.81 and I-JEPA's 44.51 of an earlier session.
budget_minutes = 30
seeds = (0, 1)
# the CPU default before the multiway predictor (8b523fd), as these arms ran
_cfg = ('configs/hjepa/'
        'hjepa_vit-tiny-d6-p4_shared-predictor_1xb128-22e_cifar10.py')
# the CPU default of 8b523fd-6901e9c (queries in every predictor block), as
# these arms ran; the arm names are kept, so the commands of docs/results.md
# and work dirs still match
_mw = ('configs/hjepa/'
       'hjepa_vit-tiny-d6-p4_full-queries_1xb128-22e_cifar10.py')
_default_levels_image = [
    dict(kind='patch'),
    dict(kind='region', grid=2, center=True),
    dict(kind='region', grid=4, center=True),
    dict(kind='image')
]
arms = [
    dict(
        name='I-JEPA (patch level only)',
        config=_cfg,
        cfg_options={
            'model.head.levels': [dict(kind='patch')],
            'model.head.level_weights': (1.0, )
        }),
    dict(
        name='patch + image level',
        config=_cfg,
        cfg_options={
            'model.head.levels': [dict(kind='patch'),
                                  dict(kind='image')],
            'model.head.level_weights': (1.0, 0.5)
        }),
    dict(
        name="the CPU default's levels + image level",
        config=_cfg,
        cfg_options={
            'model.head.levels': _default_levels_image,
            'model.head.level_weights': (1.0, 0.5, 0.5, 0.5)
        }),
    # on the multiway default (8b523fd), every level weighted 1, at the
    # AMX machine's budget of ~2,200 iterations in 30 minutes (one thread)
    dict(
        name='the multiway default + image level, weight 1',
        config=_mw,
        cfg_options={
            'model.head.levels': _default_levels_image,
            'model.head.level_weights': (1.0, 1.0, 1.0, 1.0)
        }),
    dict(
        name='patch + image level, weight 1 (multiway default recipe)',
        config=_mw,
        cfg_options={
            'model.predictor.multiway': False,
            'model.head.levels': [dict(kind='patch'),
                                  dict(kind='image')],
            'model.head.level_weights': (1.0, 1.0)
        }),
]
