# Refitting the coarse levels at the default's lr 5e-4, where one-level
# I-JEPA leads the 3-level default (hjepa_vs_ijepa_30min.py, seed 0: by 2.2
# k-NN on the Zen 5 machine, 2.4 on a Zen 2 one): lighter coarse levels
# (weights 0.25, not 0.5), and a 2-level head (patch, centred 2x2 regions).
# Compare with hjepa_vs_ijepa_30min.py's arms on the same machine.
#   python tools/analysis_tools/ablation.py \
#       configs/ablations/coarse_levels_5e-4.py --parallel 2
budget_minutes = 30
seeds = (0, 1)
# the CPU default before the multiway predictor (8b523fd), as these arms ran
_cfg = ('configs/hjepa/'
        'hjepa_vit-tiny-d6-p4_shared-predictor_1xb128-22e_cifar10.py')
arms = [
    dict(
        name='3 levels, coarse weights 0.25',
        config=_cfg,
        cfg_options={'model.head.level_weights': (1.0, 0.25, 0.25)}),
    dict(
        name='2 levels (patch, centred 2x2)',
        config=_cfg,
        cfg_options={
            'model.head.levels':
            [dict(kind='patch'),
             dict(kind='region', grid=2, center=True)],
            'model.head.level_weights': (1.0, 0.5)
        }),
]
