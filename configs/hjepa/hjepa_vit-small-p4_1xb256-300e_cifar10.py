# H-JEPA with ViT-Small/4 at 32 px on CIFAR-10, 300 epochs, batch 256 on
# one GPU; the ViT-Tiny recipe with a wider encoder and predictor.
_base_ = ['./hjepa_vit-tiny-p4_1xb256-300e_cifar10.py']

model = dict(
    backbone=dict(arch=dict(name='small')),
    predictor=dict(embed_dims=192, num_heads=6))
