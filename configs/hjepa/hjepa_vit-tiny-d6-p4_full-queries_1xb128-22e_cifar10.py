# The CPU default from 8b523fd until query_depth=1 became the default: the
# multiway predictor with the coarse levels' query tokens in all four of
# its blocks. `make train` with it (e6beaba, Intel Xeon with AMX, 13
# epochs): 52.18 k-NN, 56.38 / 60.76 linear probe (docs/results.md "The main
# job"). The ablation files that ran on that default run on this config, so
# their arms mean what their docs/results.md tables measured; checkpoints
# trained before the switch load into it.
_base_ = ['./hjepa_vit-tiny-d6-p4_regions-2-4_1xb128-22e_cifar10.py']

model = dict(predictor=dict(query_depth=None))
