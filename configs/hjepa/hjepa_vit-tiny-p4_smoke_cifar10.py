# Seconds-long run for tests: a 2-layer ViT on 256 CIFAR-10 images.
_base_ = [
    '../_base_/models/hjepa_vit-tiny-p4.py',
    '../_base_/datasets/cifar10_inmemory.py',
    '../_base_/schedules/jepa_adamw.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(arch=dict(name='tiny', num_layers=2)),
    predictor=dict(embed_dims=96, num_layers=1, num_heads=3))

train_dataloader = dict(batch_size=32, dataset=dict(max_samples=256))
test_dataloader = dict(dataset=dict(max_samples=200))
test_cfg = dict(
    bank_dataloader=dict(dataset=dict(max_samples=500)),
    protocols=dict(knn=dict(ks=(10, 20))))

max_epochs = 2
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.2,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        eta_min=1e-6,
        by_epoch=True,
        begin=1,
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
default_hooks = dict(logger=dict(interval=2))
