# H-JEPA with ViT-Tiny/4 at 32 px on CIFAR-10, 300 epochs, batch 256 on
# one GPU: `python tools/train.py <this file> --amp`.
_base_ = [
    '../_base_/models/hjepa_vit-tiny-p4.py',
    '../_base_/datasets/cifar10_inmemory.py',
    '../_base_/schedules/jepa_adamw.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(arch=dict(name='tiny')),
    predictor=dict(embed_dims=96, num_layers=6, num_heads=3))
train_dataloader = dict(batch_size=256)

max_epochs = 300
warmup_epochs = 15
base_lr = 1e-3
optim_wrapper = dict(optimizer=dict(lr=base_lr))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.2,
        by_epoch=True,
        begin=0,
        end=warmup_epochs,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        eta_min=1e-6,
        by_epoch=True,
        begin=warmup_epochs,
        end=max_epochs,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingParamScheduler',
        param_name='weight_decay',
        eta_min_ratio=10.0,
        by_epoch=True,
        begin=0,
        end=max_epochs,
        convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=3))
