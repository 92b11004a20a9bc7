# Several mask sets per image sharing one target-encoder pass (data2vec
# 2.0's multi-mask, HJEPA(mask_sets=...)), at an equal wall-clock budget of
# 30 minutes per arm. The target encoder's pass over all 64 patches is about
# a third of a CPU step; two sets of a half batch score as many (image,
# mask) pairs per step as the default's one set of 128 images, at 0.79x its
# step time (AMD EPYC Zen 2, fp32, 2 threads: 1252 against 1586 ms,
# pretrain_throughput.py side by side), so they see 1.27x the pairs in the
# same time, from half as many distinct images per step (0.90x in the
# runner's one-thread timing). On that Zen 2 machine, seed 0 (commit
# 8205f70): 31.01 against 30.86 k-NN, a tie near a random encoder's score at
# ~650 iterations; seed 1 (commit 69a233e): 29.93 against 33.66 (668 / 800
# iterations), 30.47 against 32.26 on the mean (docs/results.md, "On a slower
# machine").
# The last two arms ask the same of one-level I-JEPA (the option is not
# specific to the hierarchy); seed 1 (commit b25ca1b): 35.53 (730
# iterations) against 30.29 with 2 sets (874).
#   python tools/analysis_tools/ablation.py configs/ablations/mask_sets.py \
#       --parallel 2
budget_minutes = 30
seeds = (0, 1)
# the CPU default before the multiway predictor (8b523fd), as these arms ran
_cfg = ('configs/hjepa/'
        'hjepa_vit-tiny-d6-p4_shared-predictor_1xb128-22e_cifar10.py')
_patch_only = {
    'model.head.levels': [dict(kind='patch')],
    'model.head.level_weights': (1.0, )
}
arms = [
    dict(name='the CPU default (one mask set, batch 128)', config=_cfg),
    dict(
        name='2 mask sets, batch 64',
        config=_cfg,
        cfg_options={
            'model.mask_sets': 2,
            'train_dataloader.batch_size': 64
        }),
    dict(
        name='I-JEPA (patch level only)', config=_cfg,
        cfg_options=_patch_only),
    dict(
        name='I-JEPA, 2 mask sets, batch 64',
        config=_cfg,
        cfg_options={
            **_patch_only, 'model.mask_sets': 2,
            'train_dataloader.batch_size': 64
        }),
]
