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
        type='HJEPAPredictor',
        shared_context=True,
        embed_dims=384,
        num_layers=12,
        num_heads=12),
    masker=dict(
        type='MultiBlockMasker',
        num_targets=4,
        target_scale=(0.15, 0.2),
        target_aspect_ratio=(0.75, 1.5),
        context_scale=(0.85, 1.0),
        min_context=10),
    head=dict(
        type='HierarchicalLatentHead',
        # every target-block patch (I-JEPA's task), the mean of each
        # quadrant of the image, the mean of the whole image; the coarse
        # levels are query tokens of the predictor (HierarchicalLatentHead)
        levels=[
            dict(kind='patch'),
            dict(kind='region', grid=2),
            dict(kind='region', grid=1),
        ],
        level_weights=(1.0, 0.5, 0.5),
        loss=dict(type='SmoothL1LatentLoss')),
    data_preprocessor=dict(type='HJEPADataPreprocessor'),
)
