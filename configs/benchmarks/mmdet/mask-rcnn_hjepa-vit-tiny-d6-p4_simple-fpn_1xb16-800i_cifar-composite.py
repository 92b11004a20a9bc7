# Mask R-CNN on the CIFAR composite set with the `make train` encoder.
#
# A 6-layer ViT-Tiny, patch 4, as pretrained by
# configs/hjepa/hjepa_vit-tiny-d6-p4_1xb128-22e_cifar10.py, on 64 px canvases
# of 24-40 px CIFAR-10 photos: the objects are at the pretraining scale and
# the ViT sees a 16 x 16 grid (stride 4). The pyramid resizes that map by
# 1, 1/2, 1/4, 1/8 (strides 4-32, plus 64 for the RPN). Heads are slimmed
# for a CPU (128-wide neck, fewer proposals and RoIs). 800 iterations of
# 16 canvases (../_base_/schedules/adamw-layer-decay_800i.py).
#
#   python tools/dataset_converters/make_cifar_composite.py
#   bash tools/benchmarks/mmdet/train.sh THIS_CONFIG BACKBONE.pth 1
#   bash tools/benchmarks/mmdet/train.sh THIS_CONFIG random 1
_base_ = [
    'mmdet::_base_/models/mask-rcnn_r50_fpn.py',
    '../_base_/datasets/cifar-composite_instance.py',
    'mmdet::_base_/default_runtime.py',
    '../_base_/schedules/adamw-layer-decay_800i.py',
]
custom_imports = dict(imports=['hjepa.models'], allow_failed_imports=False)

image_size = (64, 64)
num_classes = 10

model = dict(
    data_preprocessor=dict(
        # the pretraining normalisation (CIFAR-10 RGB statistics)
        mean=[125.3, 123.0, 113.9],
        std=[63.0, 62.1, 66.7],
        bgr_to_rgb=True,
        pad_size_divisor=32),
    backbone=dict(
        _delete_=True,
        type='hjepa.HJEPAViT',
        arch=dict(name='tiny', num_layers=6),
        img_size=image_size,
        patch_size=4,
        out_type='featmap',
        drop_path_rate=0.1,
        # tools/benchmarks/mmdet/train.sh fills in the checkpoint, or sets
        # init_cfg=None for a randomly initialised backbone
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')),
    neck=dict(
        _delete_=True,
        type='hjepa.SimpleFeaturePyramid',
        in_channels=192,
        out_channels=128,
        scale_factors=(1.0, 0.5, 0.25, 0.125),
        num_outs=5),
    rpn_head=dict(in_channels=128, feat_channels=128),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=128),
        bbox_head=dict(
            in_channels=128, fc_out_channels=256, num_classes=num_classes),
        mask_roi_extractor=dict(out_channels=128),
        mask_head=dict(
            num_convs=2,
            in_channels=128,
            conv_out_channels=128,
            num_classes=num_classes)),
    train_cfg=dict(
        rpn=dict(sampler=dict(num=64)),
        rpn_proposal=dict(nms_pre=300, max_per_img=100),
        rcnn=dict(sampler=dict(num=32))),
    test_cfg=dict(
        rpn=dict(nms_pre=300, max_per_img=100), rcnn=dict(max_per_img=20)))

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(
        type='hjepa.AtomicCheckpointHook',
        by_epoch=False,
        interval=800,
        max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
