# Through which path do the coarse levels cost I-JEPA k-NN at lr 5e-4?
# The CPU default's hierarchy (patch level, centred 2x2 and 4x4 regions)
# against one-level I-JEPA, 30 minutes of training per arm:
# - the coarse (query) levels' gradient into the context encoder stopped
#   (`query_context_grad=0`): the encoder learns from the patch level alone,
#   as in I-JEPA, through a predictor it shares with the coarse levels;
# - the coarse levels on a predictor of their own (`query_predictor`, the
#   same size): they train the encoder, not the block predictor;
# - the same with a 2-block predictor of their own (half the extra step);
# - the coarse gradient into the encoder scaled by 0.25;
# - the coarse levels on weights of their own inside the shared predictor
#   (`multiway`: their own norms, projections and MLPs, attention over the
#   same sequence), no second pass over the context;
# - the same with the centred 2x2 regions alone (4 query tokens, not 20);
# - the multiway predictor with the coarse levels weighted as the patch
#   level (1, 1, 1 instead of 1, 0.5, 0.5).
#   python tools/analysis_tools/ablation.py \
#       configs/ablations/coarse_gradient_paths.py --parallel 2 --seeds 0 \
#       --arms NAME NAME
budget_minutes = 30
seeds = (0, )
# the CPU default before the multiway predictor (8b523fd), as these arms ran
_cfg = ('configs/hjepa/'
        'hjepa_vit-tiny-d6-p4_shared-predictor_1xb128-22e_cifar10.py')
_query_predictor = dict(
    type='HJEPAPredictor', embed_dims=96, num_heads=3, shared_context=True)
arms = [
    dict(
        name='H-JEPA, coarse gradient stopped at the encoder',
        config=_cfg,
        cfg_options={'model.predictor.query_context_grad': 0.0}),
    dict(
        name='I-JEPA (patch level only)',
        config=_cfg,
        cfg_options={
            'model.head.levels': [dict(kind='patch')],
            'model.head.level_weights': (1.0, )
        }),
    dict(
        name='H-JEPA, coarse levels on a predictor of their own',
        config=_cfg,
        cfg_options={
            'model.query_predictor': dict(_query_predictor, num_layers=4)
        }),
    dict(
        name='H-JEPA, coarse levels on a 2-block predictor of their own',
        config=_cfg,
        cfg_options={
            'model.query_predictor': dict(_query_predictor, num_layers=2)
        }),
    dict(
        name='H-JEPA, coarse gradient x0.25 at the encoder',
        config=_cfg,
        cfg_options={'model.predictor.query_context_grad': 0.25}),
    dict(
        name='H-JEPA, multiway predictor (coarse levels on weights of '
        'their own)',
        config=_cfg,
        cfg_options={'model.predictor.multiway': True}),
    dict(
        name='H-JEPA, multiway predictor, centred 2x2 regions only',
        config=_cfg,
        cfg_options={
            'model.predictor.multiway':
            True,
            'model.head.levels':
            [dict(kind='patch'),
             dict(kind='region', grid=2, center=True)],
            'model.head.level_weights': (1.0, 0.5)
        }),
    dict(
        name='H-JEPA, multiway predictor, coarse weights 1',
        config=_cfg,
        cfg_options={
            'model.predictor.multiway': True,
            'model.head.level_weights': (1.0, 1.0, 1.0)
        }),
]
