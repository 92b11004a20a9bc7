# I-JEPA (one level) smoke run for tests, as the H-JEPA smoke config.
_base_ = ['../hjepa/hjepa_vit-tiny-p4_smoke_cifar10.py']

model = dict(num_levels=1, level_weights=(1.0, ))
