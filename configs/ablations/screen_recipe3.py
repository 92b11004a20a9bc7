# Third recipe round on the centred CPU default: a lower learning rate and
# a deeper predictor, 12 minutes of training each, one seed; scored beside
# the default arm of configs/ablations/context_screen.py (same code, same
# work dir).
#   python tools/analysis_tools/ablation.py \
#       configs/ablations/screen_recipe3.py --parallel 2 \
#       --work-dir work_dirs/ablations/context_screen
# The CPU default then had lr 1e-3; it has 5e-4 since this round, so the
# first arm now equals the default: add 'optim_wrapper.optimizer.lr': 1e-3
# to an arm (or check out commit 65c81fa) to rerun the comparison.
budget_minutes = 12
seeds = (0, )
# the CPU default before the multiway predictor (8b523fd), as these arms ran
_cfg = ('configs/hjepa/'
        'hjepa_vit-tiny-d6-p4_shared-predictor_1xb128-22e_cifar10.py')
arms = [
    dict(
        name='learning rate 5e-4',
        config=_cfg,
        cfg_options={'optim_wrapper.optimizer.lr': 5e-4}),
    dict(
        name='predictor 6 blocks (not 4)',
        config=_cfg,
        cfg_options={'model.predictor.num_layers': 6}),
]
