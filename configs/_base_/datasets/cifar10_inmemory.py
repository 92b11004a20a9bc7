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

# k-NN evaluation (tools/test.py): test split as queries, train as bank.
_knn_loader = dict(
    batch_size=512,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
)
test_dataloader = dict(
    **_knn_loader,
    dataset=dict(
        type='InMemoryImageFolder', data_root=data_root, data_prefix='test'))
test_cfg = dict(
    type='KNNTestLoop',
    bank_dataloader=dict(
        **_knn_loader,
        dataset=dict(
            type='InMemoryImageFolder',
            data_root=data_root,
            data_prefix='train')),
    ks=(10, 20, 200),
    temperature=0.07,
    encoder='target')
test_evaluator = dict(type='Evaluator', metrics=[])  # KNNTestLoop scores
