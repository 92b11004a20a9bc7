# The CPU default from e111402 until the grid-8 level began sampling: four
# levels, the finest region level (every patch of the 8x8 grid, centred)
# asking for all 64 of its patches at every step. `make train` with it
# (e111402, Intel Xeon with AMX, 18 of 22 epochs fitted): 55.39 k-NN,
# 58.96 / 64.01 linear probe (docs/results.md "The main job"). At 30 minutes
# against I-JEPA, side by side, two seeds: +3.80 (AMD EPYC Zen 4), +3.63
# (AMX), -0.11 (Zen 3); at 60 minutes on Zen 3: +2.49 (docs/results.md "The
# hierarchy against I-JEPA"). The ablation arms that ran on it use this
# leaf, so they mean what they measured; its checkpoints load into the
# default and back (sampling changes which queries are asked, not the
# weights).
_base_ = ['./hjepa_vit-tiny-d6-p4_1xb128-22e_cifar10.py']

model = dict(
    head=dict(levels=[
        dict(kind='patch'),
        dict(kind='region', grid=2, center=True),
        dict(kind='region', grid=4, center=True),
        dict(kind='region', grid=8, center=True),
    ]))
