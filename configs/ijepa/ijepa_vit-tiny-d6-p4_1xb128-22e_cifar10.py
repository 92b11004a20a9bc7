# I-JEPA (one level) counterpart of the CPU default: everything else, the
# context colour jitter included, as the H-JEPA config it inherits.
_base_ = ['../hjepa/hjepa_vit-tiny-d6-p4_1xb128-22e_cifar10.py']

# exactly I-JEPA: one patch level, the context repeated per target block
# (so no query tokens, and no multiway weights for them)
model = dict(
    predictor=dict(shared_context=False, multiway=False, query_depth=None),
    head=dict(levels=[dict(kind='patch')], level_weights=(1.0, )))
