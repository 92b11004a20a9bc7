# I-JEPA (one level), ViT-B/16 at 224 px on ImageNet-1K: the paper-scale recipe.
# 8 GPUs x 256 images (2048 per step, as I-JEPA), 300 epochs, bf16:
#   bash tools/dist_train.sh configs/ijepa/vit-b_in1k.py 8 --amp
# Another total batch: scale the learning rates linearly, or pass
# --cfg-options auto_scale_lr.enable=True.
_base_ = [
    '../_base_/models/hjepa_vit-base-p16.py',
    '../_base_/datasets/imagenet_pretrain.py',
    '../_base_/schedules/jepa_adamw.py',
    '../_base_/default_runtime.py',
]

train_dataloader = dict(batch_size=256)
# I-JEPA: 1e-3 peak after 40 warm-up epochs from 2e-4, cosine to 1e-6 at
# 300 epochs; weight decay 0.04 -> 0.4; EMA 0.996 -> 1.0 (the defaults of
# the _base_ schedule and runtime).
auto_scale_lr = dict(enable=False, base_batch_size=2048)
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=3))
model = dict(num_levels=1, level_weights=(1.0, ))
