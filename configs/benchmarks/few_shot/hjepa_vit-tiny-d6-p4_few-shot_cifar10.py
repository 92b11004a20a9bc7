# 5-way 1/5-shot and 10-way 10-shot episodes (600 each, prototypes) on the
# test split,
# for the encoder of the CPU default (make train), beside a random init of the
# same shape and raw pixels. Inherits the pretraining config it evaluates
# (a third level, like configs/ijepa/: the model must match the checkpoint).
#   python tools/test.py THIS_CONFIG work_dirs/main_job/epoch_22.pth
_base_ = ['../../hjepa/hjepa_vit-tiny-d6-p4_1xb128-22e_cifar10.py']

test_cfg = dict(
    run=('few_shot', ), subjects=('model', 'random_init', 'raw_pixels'))
