# Fourth recipe round, from the lead of the third (learning rate 5e-4 on
# the centred CPU default): half of it again, and a constant weight decay
# (I-JEPA's 0.04 -> 0.4 ramp is written for 300 epochs), 12 minutes of
# training each; scored beside the lr 5e-4 arm of
# configs/ablations/screen_recipe3.py (same work dir).
#   python tools/analysis_tools/ablation.py \
#       configs/ablations/screen_recipe4.py --parallel 2 \
#       --work-dir work_dirs/ablations/context_screen
budget_minutes = 12
seeds = (0, )
# the CPU default before the multiway predictor (8b523fd), as these arms ran
_cfg = ('configs/hjepa/'
        'hjepa_vit-tiny-d6-p4_shared-predictor_1xb128-22e_cifar10.py')
arms = [
    dict(
        name='learning rate 2.5e-4',
        config=_cfg,
        cfg_options={'optim_wrapper.optimizer.lr': 2.5e-4}),
    dict(
        name='learning rate 5e-4, weight decay 0.05 throughout',
        config=_cfg,
        cfg_options={
            'optim_wrapper.optimizer.lr': 5e-4,
            'optim_wrapper.optimizer.weight_decay': 0.05,
            # the third scheduler ramps the weight decay; ratio 1 holds it
            'param_scheduler.2.eta_min_ratio': 1.0,
        }),
]
