# CIFAR-10 held in memory as uint8; crops and flips happen per batch in the
# model's data preprocessor, so no loader workers are needed.
data_root = 'data/cifar10'
train_dataloader = dict(
    batch_size=128,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    drop_last=True,
    dataset=dict(
        type='InMemoryImageFolder',
        data_root=data_root,
        data_prefix='train',
        with_label=False),
)

# Evaluation (tools/test.py): the test split against the training split.
# `--protocol NAME ...` or `--protocol all` picks what `run` holds.
_eval_loader = dict(
    batch_size=512,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
)
test_dataloader = dict(
    **_eval_loader,
    dataset=dict(
        type='InMemoryImageFolder', data_root=data_root, data_prefix='test'))
test_cfg = dict(
    type='ProtocolTestLoop',
    bank_dataloader=dict(
        **_eval_loader,
        dataset=dict(
            type='InMemoryImageFolder',
            data_root=data_root,
            data_prefix='train')),
    protocols=dict(
        knn=dict(type='KNNProtocol', ks=(10, 20, 200), temperature=0.07),
        linear_probe=dict(
            type='LinearProbeProtocol',
            poolings=('avg', 'cat4'),
            lrs=(1e-3, 3e-3, 1e-2, 3e-2),
            val_fraction=0.1,
            epochs=100),
        few_shot=dict(
            type='FewShotProtocol',
            settings=((5, 1), (5, 5), (10, 10)),
            episodes=600,
            n_query=15),
        feature_quality=dict(type='FeatureQualityProtocol', num_samples=2000),
        # one epoch keeps `--protocol all` under 30 minutes on one CPU core
        finetune=dict(
            type='FineTuneProtocol',
            epochs=1,
            batch_size=128,
            lr=1e-3,
            layer_decay=0.65,
            weight_decay=0.05,
            drop_path_rate=0.1,
            amp=True),
    ),
    run=('knn', ),
    subjects=('model', ),
    encoder='target')
test_evaluator = dict(type='Evaluator', metrics=[])  # the loop scores
