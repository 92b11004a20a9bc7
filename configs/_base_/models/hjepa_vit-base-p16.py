# H-JEPA with a ViT-B/16 encoder at 224 px (I-JEPA's predictor: 384 wide).
model = dict(
    type='HJEPA',
    backbone=dict(
        type='HJEPAViT',
        arch=dict(name='base'),
        img_size=224,
        patch_size=16,
        drop_path_rate=0.0),
    predictor=dict(
        type='HJEPAPredictor', embed_dims=384, num_layers=12, num_heads=12),
    masker=dict(
        type='MultiBlockMasker',
        num_targets=4,
        target_scale=(0.15, 0.2),
        target_aspect_ratio=(0.75, 1.5),
        context_scale=(0.85, 1.0),
        min_context=10),
    neck=dict(type='LevelProjectionNeck', num_layers=1),
    loss=dict(type='SmoothL1LatentLoss'),
    num_levels=3,
    level_weights=(1.0, 0.5, 0.25),
    data_preprocessor=dict(type='HJEPADataPreprocessor'),
)
