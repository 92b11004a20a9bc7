# ImageNet-1K (or any ImageFolder) read from disk, cropped per sample.
data_root = 'data/imagenet'
train_dataloader = dict(
    batch_size=128,  # per GPU: 8 x 128 = 1024... set per recipe
    num_workers=10,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    drop_last=True,
    dataset=dict(
        type='ImageFolderDataset',
        data_root=data_root,
        data_prefix='train',
        with_label=False,
        pipeline=[
            dict(type='LoadImageRGB'),
            dict(type='JEPARandomResizedCrop', size=224, scale=(0.3, 1.0)),
            dict(type='JEPARandomFlip', prob=0.5),
            dict(type='PackJEPAInputs'),
        ]),
)

_eval_pipeline = [
    dict(type='LoadImageRGB'),
    dict(type='JEPAResizeCenterCrop', size=224),
    dict(type='PackJEPAInputs'),
]
_knn_loader = dict(
    batch_size=256,
    num_workers=10,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
)
test_dataloader = dict(
    **_knn_loader,
    dataset=dict(
        type='ImageFolderDataset',
        data_root=data_root,
        data_prefix='val',
        pipeline=_eval_pipeline))
# the protocols that need features only: they stream (ProtocolTestLoop keeps
# features, never images, unless raw pixels, fine-tuning or feature quality
# are asked for), so 1.28M bank images fit
test_cfg = dict(
    type='ProtocolTestLoop',
    bank_dataloader=dict(
        **_knn_loader,
        dataset=dict(
            type='ImageFolderDataset',
            data_root=data_root,
            data_prefix='train',
            pipeline=_eval_pipeline)),
    protocols=dict(
        knn=dict(type='KNNProtocol', ks=(10, 20, 200), temperature=0.07),
        linear_probe=dict(
            type='LinearProbeProtocol',
            poolings=('avg', 'cat4'),
            lrs=(1e-3, 3e-3, 1e-2),
            epochs=20),
        few_shot=dict(
            type='FewShotProtocol',
            settings=((5, 1), (5, 5)),
            episodes=600,
            n_query=15)),
    run=('knn', ),
    subjects=('model', ),
    encoder='target')
test_evaluator = dict(type='Evaluator', metrics=[])  # the loop scores
