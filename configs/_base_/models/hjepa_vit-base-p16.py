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
        # the CPU default's levels (_base_/models/hjepa_vit-tiny-p4.py):
        # every target-block patch, then the 2x2 quadrants and the 4x4
        # cells of the 14x14 grid (cells of 3 or 4 patches a side), each
        # region's target centred on the image's mean target token
        levels=[
            dict(kind='patch'),
            dict(kind='region', grid=2, center=True),
            dict(kind='region', grid=4, center=True),
        ],
        level_weights=(1.0, 0.5, 0.5),
        loss=dict(type='SmoothL1LatentLoss')),
    data_preprocessor=dict(type='HJEPADataPreprocessor'),
)
