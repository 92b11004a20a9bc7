# I-JEPA's optimisation: AdamW, linear warm-up then cosine learning rate,
# weight decay rising 0.04 -> 0.4 on a cosine, none on biases and norms.
# The schedule is written for 300 epochs with 40 of warm-up; with
# auto_fit_schedule it follows the training length a leaf (or
# --cfg-options train_cfg.max_epochs=N) sets, warm-up keeping its share
# (hjepa.utils.fit_schedule_to_length). Leaves set train_cfg.max_epochs and
# optim_wrapper.optimizer.lr.
max_epochs = 300
warmup_epochs = 40
base_lr = 1e-3
start_lr = 2e-4
final_lr = 1e-6
weight_decay = 0.04
final_weight_decay = 0.4

optim_wrapper = dict(
    type='OptimWrapper',
    # fused AdamW (CPU and GPU) on two groups, decay and no decay, instead
    # of one group per tensor
    optimizer=dict(
        type='AdamW',
        lr=base_lr,
        betas=(0.9, 0.999),
        weight_decay=weight_decay,
        fused=True),
    constructor='GroupedOptimWrapperConstructor',
    paramwise_cfg=dict(
        norm_decay_mult=0.0, bias_decay_mult=0.0, flat_decay_mult=0.0),
)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=start_lr / base_lr,
        by_epoch=True,
        begin=0,
        end=warmup_epochs,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        eta_min=final_lr,
        by_epoch=True,
        begin=warmup_epochs,
        end=max_epochs,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingParamScheduler',
        param_name='weight_decay',
        eta_min_ratio=final_weight_decay / weight_decay,
        by_epoch=True,
        begin=0,
        end=max_epochs,
        convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
auto_fit_schedule = True
auto_scale_lr = dict(enable=False, base_batch_size=2048)
