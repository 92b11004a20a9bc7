# The smoke config with random-token masks instead of multi-block masks.
_base_ = ['../../../configs/hjepa/hjepa_vit-tiny-p4_smoke_cifar10.py']

# 'hjepa' as in the base; the project module registers RandomTokenMasker.
custom_imports = dict(
    imports=['hjepa', 'projects.random_token_masker.random_token_masker'],
    allow_failed_imports=False)

model = dict(
    masker=dict(
        _delete_=True,
        type='RandomTokenMasker',
        num_targets=4,
        target_ratio=0.15,
        context_ratio=0.5))
