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

optim_wrapper = dict(optimizer=dict(lr=1e-3))
train_cfg = dict(max_epochs=2)
default_hooks = dict(logger=dict(interval=2))
