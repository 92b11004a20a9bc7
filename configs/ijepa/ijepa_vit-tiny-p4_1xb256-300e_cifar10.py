# I-JEPA (one level) with ViT-Tiny/4 at 32 px on CIFAR-10, 300 epochs,
# batch 256 on one GPU, as the H-JEPA config it inherits.
_base_ = ['../hjepa/hjepa_vit-tiny-p4_1xb256-300e_cifar10.py']

# exactly I-JEPA: one patch level, the context repeated per target block
# (so no query tokens, and no multiway weights for them)
model = dict(
    predictor=dict(shared_context=False, multiway=False),
    head=dict(levels=[dict(kind='patch')], level_weights=(1.0, )))
