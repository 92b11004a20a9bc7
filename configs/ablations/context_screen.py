# How much context the encoder sees: the CPU default, its context block the
# whole grid (less the targets), every sample's whole context padded instead
# of cut to the batch's smallest (MultiBlockMasker(pad_context=True)), and
# both; 12 minutes of training each, one seed. On the 8x8 grid the cut keeps
# 19 of a sample's 30 context patches on average; padding keeps all 30, and
# the whole-grid block raises them to 32.
#   python tools/analysis_tools/ablation.py \
#       configs/ablations/context_screen.py --parallel 2
budget_minutes = 12
seeds = (0, )
# the CPU default before the multiway predictor (8b523fd), as these arms ran
_cfg = ('configs/hjepa/'
        'hjepa_vit-tiny-d6-p4_shared-predictor_1xb128-22e_cifar10.py')
arms = [
    dict(name='default', config=_cfg),
    dict(
        name='context block always the whole grid',
        config=_cfg,
        cfg_options={'model.masker.context_scale': (1.0, 1.0)}),
    dict(
        name='padded contexts',
        config=_cfg,
        cfg_options={'model.masker.pad_context': True}),
    dict(
        name='padded contexts, context block the whole grid',
        config=_cfg,
        cfg_options={
            'model.masker.pad_context': True,
            'model.masker.context_scale': (1.0, 1.0)
        }),
]
