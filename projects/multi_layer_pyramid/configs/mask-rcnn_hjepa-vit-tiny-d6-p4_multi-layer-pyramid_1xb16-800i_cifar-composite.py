# The CIFAR composite Mask R-CNN with this project's multi-layer pyramid in
# place of SimpleFeaturePyramid: blocks 2, 3, 4 and 6 of the ViT give the
# four scales (strides 4-32; 64 for the RPN by max pooling).
_base_ = [
    '../../../configs/benchmarks/mmdet/'
    'mask-rcnn_hjepa-vit-tiny-d6-p4_simple-fpn_1xb16-800i_cifar-composite.py'
]

# 'hjepa.models' as in the base (mmengine replaces lists, it does not merge
# them); the project module registers MultiLayerFeaturePyramid in H-JEPA's
# model registry.
custom_imports = dict(
    imports=[
        'hjepa.models', 'projects.multi_layer_pyramid.multi_layer_pyramid'
    ],
    allow_failed_imports=False)

model = dict(
    backbone=dict(out_indices=(1, 2, 3, 5)),
    neck=dict(
        _delete_=True,
        type='hjepa.MultiLayerFeaturePyramid',
        in_channels=192,
        out_channels=128,
        scale_factors=(1.0, 0.5, 0.25, 0.125),
        num_outs=5))
