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

optim_wrapper = dict(optimizer=dict(lr=1e-3))
train_cfg = dict(max_epochs=300)
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=3))
