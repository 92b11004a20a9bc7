# H-JEPA with a 6-layer ViT-Tiny/4 on CIFAR-10 for 4 epochs: the
# equal-budget comparison with configs/ijepa/*-4e-budget_cifar10.py.
_base_ = [
    '../_base_/models/hjepa_vit-tiny-p4.py',
    '../_base_/datasets/cifar10_inmemory.py',
    '../_base_/schedules/jepa_adamw.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(arch=dict(name='tiny', num_layers=6)),
    predictor=dict(embed_dims=96, num_layers=4, num_heads=3))
train_dataloader = dict(batch_size=128)

max_epochs = 4
warmup_epochs = 1
base_lr = 1e-3
optim_wrapper = dict(optimizer=dict(lr=base_lr))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
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
custom_hooks = [
    dict(type='TargetEncoderEMAHook', momentum=0.996, end_momentum=1.0),
    dict(type='SafeCheckpointHook'),
]
default_hooks = dict(checkpoint=dict(interval=2, max_keep_ckpts=2))
