# UperNet on ADE20K (512 x 512 crops) with an H-JEPA ViT-B/16
# (configs/hjepa/vit-b_in1k.py), the MAE / BEiT recipe: blocks 4, 6, 8 and 12
# through mmseg's Feature2Pyramid (strides 4-32), AdamW with layer-wise lr
# decay 0.65, drop path 0.1, 160k iterations of 16 images, sliding-window
# testing. Fixed sin-cos positions fit the 32 x 32 grid with no interpolation.
#
#   python tools/model_converters/hjepa_to_backbone.py \
#       PRETRAIN.pth BACKBONE.pth
#   bash tools/benchmarks/mmseg/train.sh THIS_CONFIG BACKBONE.pth 8 --amp
_base_ = [
    'mmseg::_base_/models/upernet_mae.py',
    'mmseg::_base_/datasets/ade20k.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_160k.py',
]
custom_imports = dict(imports=['hjepa.models'], allow_failed_imports=False)

crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        _delete_=True,
        type='hjepa.HJEPAViT',
        arch='base',
        img_size=crop_size,
        patch_size=16,
        out_indices=(3, 5, 7, 11),
        out_type='featmap',
        drop_path_rate=0.1,
        # tools/benchmarks/mmseg/train.sh fills in the checkpoint
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')),
    neck=dict(embed_dim=768, rescales=[4, 2, 1, 0.5]),
    decode_head=dict(
        in_channels=[768, 768, 768, 768], channels=768, num_classes=150),
    auxiliary_head=dict(in_channels=768, num_classes=150),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(341, 341)))

optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='hjepa.LayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(layer_decay_rate=0.65, flat_decay_mult=0.))
param_scheduler = [
    dict(
        type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=1.0,
        by_epoch=False,
        begin=1500,
        end=160000)
]
# 8 GPUs x 2 images
train_dataloader = dict(batch_size=2)
val_dataloader = dict(batch_size=1)
test_dataloader = val_dataloader
# interval as in mmseg's schedule; saves a kill cannot break
default_hooks = dict(checkpoint=dict(type='hjepa.AtomicCheckpointHook'))
