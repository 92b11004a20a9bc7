# I-JEPA (one level), ViT-B/16 at 224 px on ImageNet-1K: the paper-scale
# recipe, as configs/hjepa/vit-b_in1k.py with one level.
#   bash tools/dist_train.sh configs/ijepa/vit-b_in1k.py 8 --amp
_base_ = ['../hjepa/vit-b_in1k.py']

# exactly I-JEPA: one patch level, the context repeated per target block
# (so no query tokens, and no multiway weights for them)
model = dict(
    predictor=dict(shared_context=False, multiway=False),
    head=dict(levels=[dict(kind='patch')], level_weights=(1.0, )))
