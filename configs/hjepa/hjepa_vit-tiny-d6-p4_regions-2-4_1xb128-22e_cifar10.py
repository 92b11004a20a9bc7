# The CPU default from a2a31bf until the whole-image patch level joined it:
# the multiway predictor with the coarse levels' queries in its last block
# (query_depth=1) and three levels, the target-block patches and the
# centred 2x2 quadrants and 4x4 cells of the image. `make train` with it
# (9f64455, Intel Xeon with AMX, 22 epochs): 55.62 k-NN, 59.06 / 63.52
# linear probe (docs/results.md "The main job"). At 30 minutes against I-JEPA,
# side by side: +1.46 on two seeds (AMX), +1.00 on three (AMD EPYC Zen 4)
# (configs/ablations/query_depth.py). The configs and ablation arms that
# ran on that default inherit this one, so they mean what they measured;
# its checkpoints load into it.
_base_ = ['./hjepa_vit-tiny-d6-p4_1xb128-22e_cifar10.py']

model = dict(
    head=dict(
        levels=[
            dict(kind='patch'),
            dict(kind='region', grid=2, center=True),
            dict(kind='region', grid=4, center=True),
        ],
        level_weights=(1.0, 1.0, 1.0)))
