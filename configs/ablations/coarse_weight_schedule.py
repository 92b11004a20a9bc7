# Do the coarse levels cost I-JEPA k-NN at lr 5e-4 because they dominate
# the end of training? On a fresh model their gradient into the context
# encoder is ~0.15x the patch level's; after ~700 iterations of the CPU
# default it is 0.8-1.5x and nearly orthogonal to it
# (tools/analysis_tools/level_gradients.py, README). LevelWeightScheduleHook
# scales the coarse levels' weights by a cosine from 1 to 0 over training,
# so they shape the start and the patch level alone finishes.
# 30 minutes of training per arm:
#   python tools/analysis_tools/ablation.py \
#       configs/ablations/coarse_weight_schedule.py --parallel 2 \
#       --seeds 0 --timing-steps 40 --arms NAME NAME
budget_minutes = 30
seeds = (0, )
# the CPU default before the multiway predictor (8b523fd), as these arms ran
_cfg = ('configs/hjepa/'
        'hjepa_vit-tiny-d6-p4_shared-predictor_1xb128-22e_cifar10.py')
_decay = [
    dict(
        type='LevelWeightScheduleHook',
        start_factor=1.0,
        end_factor=0.0,
        schedule='cosine')
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
        name='H-JEPA, coarse weights cosine to 0',
        config=_cfg,
        custom_hooks=_decay),
    dict(
        name='H-JEPA, own coarse predictor, coarse weights cosine to 0',
        config=_cfg,
        cfg_options={
            'model.query_predictor':
            dict(
                type='HJEPAPredictor',
                embed_dims=96,
                num_layers=4,
                num_heads=3,
                shared_context=True)
        },
        custom_hooks=_decay),
]
