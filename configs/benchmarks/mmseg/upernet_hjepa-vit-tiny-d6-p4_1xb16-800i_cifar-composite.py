# UperNet on the CIFAR composite set with the `make train` encoder.
#
# A 6-layer ViT-Tiny, patch 4, as pretrained by
# configs/hjepa/hjepa_vit-tiny-d6-p4_1xb128-22e_cifar10.py, on 64 px canvases
# of 24-40 px CIFAR-10 photos (the pretraining scale; a 16 x 16 grid at
# stride 4). Blocks 2, 3, 4 and 6 feed mmseg's Feature2Pyramid, which resizes
# them by 2, 1, 1/2 and 1/4 (strides 2-16). 11 classes: background and the
# ten CIFAR-10 classes; the heads are slimmed for a CPU. 800 iterations of
# 16 canvases (../_base_/schedules/adamw-layer-decay_800i.py).
#
#   python tools/dataset_converters/make_cifar_composite.py
#   bash tools/benchmarks/mmseg/train.sh THIS_CONFIG BACKBONE.pth 1
#   bash tools/benchmarks/mmseg/train.sh THIS_CONFIG random 1
_base_ = [
    'mmseg::_base_/models/upernet_mae.py',
    '../_base_/datasets/cifar-composite_semantic.py',
    'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/adamw-layer-decay_800i.py',
]
custom_imports = dict(imports=['hjepa.models'], allow_failed_imports=False)

crop_size = (64, 64)
norm_cfg = dict(type='BN', requires_grad=True)
num_classes = 11

model = dict(
    data_preprocessor=dict(
        # the pretraining normalisation (CIFAR-10 RGB statistics)
        mean=[125.3, 123.0, 113.9],
        std=[63.0, 62.1, 66.7],
        bgr_to_rgb=True,
        size=crop_size),
    backbone=dict(
        _delete_=True,
        type='hjepa.HJEPAViT',
        arch=dict(name='tiny', num_layers=6),
        img_size=crop_size,
        patch_size=4,
        out_indices=(1, 2, 3, 5),
        out_type='featmap',
        drop_path_rate=0.1,
        # tools/benchmarks/mmseg/train.sh fills in the checkpoint, or sets
        # init_cfg=None for a randomly initialised backbone
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')),
    neck=dict(embed_dim=192, rescales=[2, 1, 0.5, 0.25], norm_cfg=norm_cfg),
    decode_head=dict(
        in_channels=[192, 192, 192, 192],
        channels=128,
        num_classes=num_classes,
        norm_cfg=norm_cfg),
    auxiliary_head=dict(
        in_channels=192,
        channels=64,
        num_classes=num_classes,
        norm_cfg=norm_cfg),
    test_cfg=dict(mode='whole'))

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='hjepa.AtomicCheckpointHook',
        by_epoch=False,
        interval=800,
        max_keep_ckpts=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
