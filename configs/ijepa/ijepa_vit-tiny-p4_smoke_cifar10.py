# I-JEPA (one level) smoke run for tests, as the H-JEPA smoke config.
_base_ = ['../hjepa/hjepa_vit-tiny-p4_smoke_cifar10.py']

# exactly I-JEPA: one patch level, the context repeated per target block
# (so no query tokens, and no multiway weights for them)
model = dict(
    predictor=dict(shared_context=False, multiway=False),
    head=dict(levels=[dict(kind='patch')], level_weights=(1.0, )))
