import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from hjepa.models import HJEPA, HierarchicalLatentHead, SmoothL1LatentLoss
from hjepa.models.utils import gather_tokens
from hjepa.models.utils.seeding import (MASK_STREAM, QUERY_STREAM, SET_STRIDE,
                                        step_generator)

PATCH = dict(kind='patch')
QUERY_LEVELS = [
    PATCH, dict(kind='region', grid=2),
    dict(kind='region', grid=1)
]
# a predictor of their own for the region levels' query tokens
QUERY_PREDICTOR = dict(
    type='HJEPAPredictor',
    embed_dims=96,
    num_layers=1,
    num_heads=3,
    shared_context=True)


def build(levels=QUERY_LEVELS,
          weights=(1.0, 0.5, 0.5),
          shared=True,
          pred_layers=1,
          **kwargs):
    model = HJEPA(
        backbone=dict(
            type='HJEPAViT',
            arch=dict(name='tiny', num_layers=2),
            img_size=32,
            patch_size=4),
        predictor=dict(
            type='HJEPAPredictor',
            embed_dims=96,
            num_layers=pred_layers,
            num_heads=3,
            shared_context=shared,
            **kwargs.pop('predictor', {})),
        masker=dict(type='MultiBlockMasker'),
        head=dict(
            type='HierarchicalLatentHead',
            levels=levels,
            level_weights=weights,
            **kwargs.pop('head', {})),
        **kwargs)
    model.init_weights()
    return model


def test_target_encoder_starts_as_copy_and_is_frozen():
    model = build()
    for (n, p), q in zip(model.backbone.named_parameters(),
                         model.target_encoder.parameters()):
        assert torch.equal(p, q), n
        assert not q.requires_grad


def test_losses_per_level_and_backward():
    model = build()
    losses = model(torch.randn(4, 3, 32, 32), mode='loss')
    assert {k
            for k in losses
            if 'loss' in k} == {'loss_level0', 'loss_level1', 'loss_level2'}
    assert losses['n_ctx'] >= 4  # logged, not a loss
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert model.backbone.patch_embed.weight.grad is not None
    assert model.head.level_embed.grad is not None  # the region queries
    assert all(p.grad is None for p in model.target_encoder.parameters())


@pytest.mark.parametrize('img_size', [56, (32, 48)], ids=['14x14', '8x12'])
def test_the_hierarchy_on_other_grids(img_size):
    """ViT-B/16's 14x14 grid at 224 px (here 56 px in patches of 4) and a
    non-square 8x12 grid: 2x2 regions of near-equal size, the whole image,
    every level learnt."""
    model = HJEPA(
        backbone=dict(
            type='HJEPAViT',
            arch=dict(name='tiny', num_layers=1),
            img_size=img_size,
            patch_size=4),
        predictor=dict(
            type='HJEPAPredictor', embed_dims=96, num_layers=1, num_heads=3),
        masker=dict(type='MultiBlockMasker'),
        head=dict(
            type='HierarchicalLatentHead',
            levels=QUERY_LEVELS,
            level_weights=(1.0, 0.5, 0.5)))
    model.init_weights()
    h, w = (img_size, img_size) if isinstance(img_size, int) else img_size
    losses = model(torch.randn(2, 3, h, w), mode='loss')
    loss = sum(v for k, v in losses.items() if k.startswith('loss_level'))
    assert all(float(losses[f'loss_level{i}']) > 0 for i in range(3)), losses
    loss.backward()
    assert model.head.level_embed.grad.abs().sum() > 0
    queries, groups = model.head.queries(model.backbone.grid_size, 'cpu')
    assert groups == (4, 1)


@pytest.mark.parametrize('shared', [False, True])
def test_one_level_is_ijepa(shared):
    """A head with one patch level is exactly I-JEPA's loss, recomputed by
    hand, in both predictor layouts."""
    model = build([PATCH], (1.0, ), shared)
    x = torch.randn(4, 3, 32, 32)
    step = int(model.num_steps)
    losses = model(x, mode='loss')
    assert [k for k in losses if 'loss' in k] == ['loss_level0']

    # Same masks: the draw depends on (seed, rank, step) only.
    gen = step_generator(torch.Generator(), model.seed, step, MASK_STREAM)
    masks = model.masker.sample(4, (8, 8), gen)
    ctx, tgt = masks['context'], masks['targets']
    with torch.no_grad():
        h = model.target_encoder(x)[-1]
        h = F.layer_norm(h, h.shape[-1:])
        target = gather_tokens(h, tgt.flatten(1)).view(4 * 4, -1, 192)
    z = model.backbone(x, ctx)[-1]
    pred, queries = model.predictor(z, ctx, tgt)
    assert queries is None
    expected = F.smooth_l1_loss(pred, target)
    torch.testing.assert_close(losses['loss_level0'], expected)


@pytest.mark.parametrize('shared', [False, True])
def test_depth_level_predicts_a_shallower_block(shared):
    """A depth level, recomputed by hand: the layer-normalised output of
    the target encoder's first block at every target patch, against the
    predictor's hidden state after its first block (read by a hook, in
    either layout) through the level's own norm and head."""
    model = build([PATCH, dict(kind='depth', layer=0)], (1.0, 0.5),
                  shared,
                  pred_layers=2)
    lv = model.head.levels[1]
    assert (lv['block'], lv['pred_block']) == (0, 0)  # same relative depth
    x = torch.randn(4, 3, 32, 32)
    losses = model(x, mode='loss')

    gen = step_generator(torch.Generator(), model.seed, 0, MASK_STREAM)
    masks = model.masker.sample(4, (8, 8), gen)
    ctx, tgt = masks['context'], masks['targets']
    B, M, n_tgt = tgt.shape
    with torch.no_grad():
        h = model.target_encoder(x, out_indices=[0])[0]
        h = F.layer_norm(h, h.shape[-1:])
        target = gather_tokens(h, tgt.flatten(1)).view(B * M, n_tgt, 192)
    seen = []
    hook = model.predictor.blocks[0].register_forward_hook(
        lambda m, args, out: seen.append(out))
    model.predictor(model.backbone(x, ctx)[-1], ctx, tgt)
    hook.remove()
    hidden = seen[0][:, ctx.shape[1]:]  # the target tokens
    hidden = hidden.reshape(B * M, n_tgt, 96)  # both layouts: sample-major
    pred = model.head.projs[1](hidden)
    expected = 0.5 * F.smooth_l1_loss(pred, target)
    torch.testing.assert_close(losses['loss_level1'], expected)
    assert not torch.allclose(losses['loss_level1'],
                              0.5 * losses['loss_level0'])

    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert model.head.projs[1][1].weight.grad.abs().sum() > 0
    # the last predictor block feeds only the patch level
    model.zero_grad()
    losses = model(x, mode='loss')
    losses['loss_level1'].backward()
    assert model.predictor.blocks[1].mlp.fc2.weight.grad is None or float(
        model.predictor.blocks[1].mlp.fc2.weight.grad.abs().sum()) == 0


def test_depth_level_refuses_blocks_that_do_not_exist():
    with pytest.raises(
            ValueError, match='layer 2 is not a block of the '
            '2-block encoder'):
        build([PATCH, dict(kind='depth', layer=2)], (1.0, 0.5))
    with pytest.raises(
            ValueError,
            match='pred_layer 1 is not a block of the '
            '1-block predictor'):
        build([PATCH, dict(kind='depth', layer=0, pred_layer=1)], (1.0, 0.5))


def test_mask_sets_share_one_target_pass():
    """Two mask sets: the target encoder runs once, the context encoder
    twice, and the loss is the mean of the two sets' I-JEPA losses,
    recomputed by hand from each set's masks (set 1 from its own
    stream)."""
    model = build([PATCH], (1.0, ), False, mask_sets=2)
    calls = {'target': 0, 'context': 0}
    model.target_encoder.register_forward_pre_hook(
        lambda m, args: calls.__setitem__('target', calls['target'] + 1))
    model.backbone.register_forward_pre_hook(
        lambda m, args: calls.__setitem__('context', calls['context'] + 1))
    x = torch.randn(4, 3, 32, 32)
    losses = model(x, mode='loss')
    assert calls == {'target': 1, 'context': 2}

    with torch.no_grad():
        h = model.target_encoder(x)[-1]
        h = F.layer_norm(h, h.shape[-1:])
    expected, n_ctx = [], []
    for mask_set in range(2):
        gen = step_generator(torch.Generator(), model.seed, 0,
                             MASK_STREAM + mask_set * SET_STRIDE)
        masks = model.masker.sample(4, (8, 8), gen)
        ctx, tgt = masks['context'], masks['targets']
        target = gather_tokens(h, tgt.flatten(1)).view(4 * 4, -1, 192)
        pred, _ = model.predictor(model.backbone(x, ctx)[-1], ctx, tgt)
        expected.append(F.smooth_l1_loss(pred, target))
        n_ctx.append(ctx.shape[1])
    assert not torch.equal(expected[0], expected[1])  # other masks
    torch.testing.assert_close(losses['loss_level0'],
                               (expected[0] + expected[1]) / 2)
    assert float(losses['n_ctx']) == pytest.approx(sum(n_ctx) / 2)

    # set 0 draws what a one-set model draws
    one = build([PATCH], (1.0, ), False)
    one.load_state_dict(model.state_dict())
    one.num_steps.zero_()  # the state holds the step after the first
    torch.testing.assert_close(one(x, mode='loss')['loss_level0'], expected[0])


def test_mask_set_streams_never_meet_another_stream():
    from hjepa.models.utils import seeding
    streams = [v for k, v in vars(seeding).items() if k.endswith('_STREAM')]
    assert len(streams) == 6 and max(streams) < SET_STRIDE


def test_a_sampling_level_gets_k_queries_drawn_per_step():
    """sample=k: the predictor gets the k drawn regions' query tokens only,
    drawn from the step's own stream, so the same step (a resumed run)
    draws the same regions and the next step others; every level learns."""
    levels = [PATCH, dict(kind='region', grid=8, center=True, sample=6)]
    model = build(levels, (1.0, 1.0))
    seen = []
    model.predictor.register_forward_hook(
        lambda mod, args, out: seen.append(args[4].shape[1]))
    drawn = []
    sample = model.head.sample_cells
    model.head.sample_cells = lambda gen: drawn.append(sample(gen)) or drawn[-1
                                                                             ]
    x = torch.randn(2, 3, 32, 32)
    step = int(model.num_steps)
    losses = model(x, mode='loss')
    assert seen == [6] and float(losses['loss_level1']) > 0
    (losses['loss_level0'] + losses['loss_level1']).backward()
    assert model.head.level_embed.grad.abs().sum() > 0
    gen = step_generator(torch.Generator(), model.seed, step, QUERY_STREAM)
    torch.testing.assert_close(sample(gen)[1], drawn[0][1])
    model(x, mode='loss')  # the next step
    assert not torch.equal(drawn[0][1], drawn[1][1])


@pytest.mark.parametrize('bad', [0, 1.5, True])
def test_mask_sets_must_be_a_positive_integer(bad):
    with pytest.raises(ValueError, match=f'mask_sets {bad!r} must be'):
        build(mask_sets=bad)


def test_mask_sets_from_numpy_is_an_int():
    model = build(mask_sets=np.int64(2))
    assert model.mask_sets == 2 and type(model.mask_sets) is int


def test_ema_update():
    model = build()
    with torch.no_grad():
        for p in model.backbone.parameters():
            p.add_(1.0)
    before = [p.clone() for p in model.target_encoder.parameters()]
    model.update_target_encoder(0.9)
    for b, t, c in zip(before, model.target_encoder.parameters(),
                       model.backbone.parameters()):
        torch.testing.assert_close(t, 0.9 * b + 0.1 * c)
    with pytest.raises(ValueError, match='momentum'):
        model.update_target_encoder(1.5)


def test_ema_refuses_flattened_encoders():
    """A wrapper that flattens the target encoder's tensors into one (as
    FSDP over the whole model does) must stop the update, not void it."""
    model = build()
    flat = torch.nn.Module()
    flat.flat_param = torch.nn.Parameter(
        torch.cat([p.flatten() for p in model.target_encoder.parameters()]))
    model.target_encoder = flat
    with pytest.raises(RuntimeError, match='flattened'):
        model.update_target_encoder(0.9)
    model.target_encoder = torch.nn.Module()  # no tensors left at all
    with pytest.raises(RuntimeError, match='flattened'):
        model.update_target_encoder(0.9)


def test_extract_feat_and_modes():
    model = build()
    x = torch.randn(2, 3, 32, 32)
    assert model(x, mode='tensor').shape == (2, 192)
    assert model.extract_feat(x, 'context').shape == (2, 192)
    # features of a frozen encoder: no autograd graph is kept
    assert not model.extract_feat(x, 'context').requires_grad
    with pytest.raises(ValueError, match='mode'):
        model(x, mode='nope')
    with pytest.raises(ValueError, match='encoder'):
        model.extract_feat(x, 'student')


def test_bad_level_weights():
    with pytest.raises(ValueError, match='level_weights'):
        build(weights=(1.0, ))
    with pytest.raises(ValueError, match='non-negative'):
        build(weights=(1.0, -5.0, 0.25))


def test_old_level_arguments_say_where_they_went():
    with pytest.raises(ValueError, match='moved into the head'):
        build(num_levels=3)


def test_levels_must_fit_the_grid():
    with pytest.raises(ValueError, match='finer than the patch grid'):
        build([PATCH, dict(kind='region', grid=16)], (1.0, 1.0))
    # the num_levels=5 on CIFAR's 8x8 grid: a 16x16 window
    with pytest.raises(ValueError, match='larger than the patch grid'):
        build([PATCH, dict(kind='window', side=16)], (1.0, 1.0))


def test_accepts_built_modules():
    from hjepa.models import HJEPAPredictor, HJEPAViT, MultiBlockMasker
    vit = HJEPAViT(
        arch=dict(name='tiny', num_layers=1), img_size=32, patch_size=4)
    head = HierarchicalLatentHead(
        192,
        96, [PATCH, dict(kind='window', side=2)], (1.0, 0.5),
        loss=SmoothL1LatentLoss())
    model = HJEPA(
        backbone=vit,
        predictor=HJEPAPredictor(192, 96, 1, 3, grid_size=8),
        masker=MultiBlockMasker(),
        head=head)
    assert model.backbone is vit and model.head is head
    assert model.num_levels == 2
    losses = model(torch.randn(2, 3, 32, 32), mode='loss')
    assert {'loss_level0', 'loss_level1'} <= set(losses)


def test_training_keeps_target_encoder_in_eval():
    model = build()
    model.train()
    assert model.backbone.training and not model.target_encoder.training


def test_context_augment_reaches_only_the_context_encoder():
    model = build(context_augment=dict(type='BatchColorJitter', prob=1.0))
    assert model.context_augment.mean.flatten().tolist() == pytest.approx(
        model.data_preprocessor.mean.flatten().tolist())
    seen = {}
    model.backbone.register_forward_pre_hook(
        lambda m, args: seen.__setitem__('context', args[0].clone()))
    model.target_encoder.register_forward_pre_hook(
        lambda m, args: seen.__setitem__('target', args[0].clone()))
    x = torch.randn(2, 3, 32, 32)
    model(x, mode='loss')
    assert torch.equal(seen['target'], x)
    assert not torch.equal(seen['context'], x)


def test_padded_contexts_train_on_every_context_patch():
    """With ``pad_context`` the loss sees each sample's whole context:
    ``n_ctx`` logs the mean count, above the batch minimum that the cut
    keeps, and every level and the regulariser train."""
    kw = dict(head=dict(regularizer=dict(type='SIGReg'), reg_weight=0.1))
    cut, padded = build(seed=3, **kw), build(seed=3, **kw)
    padded.masker.pad_context = True
    x = torch.randn(16, 3, 32, 32)
    gen = step_generator(padded.generator, 3, 0, MASK_STREAM)
    counts = padded.masker.sample(16, (8, 8), gen)['context_mask'].sum(1)
    a, b = cut(x, mode='loss'), padded(x, mode='loss')
    assert a['n_ctx'] == counts.min() < counts.float().mean()
    torch.testing.assert_close(b['n_ctx'], counts.float().mean())
    assert set(a) == set(b)
    sum(v for k, v in b.items() if 'loss' in k).backward()
    assert padded.backbone.patch_embed.weight.grad.abs().sum() > 0


@pytest.mark.parametrize('shared', [True, False])
def test_padding_is_never_read(shared):
    """What the padding slots hold changes no loss: the encoder, both
    predictor layouts and the regulariser's pooling skip them."""
    kw = dict(
        shared=shared,
        seed=3,
        head=dict(regularizer=dict(type='SIGReg'), reg_weight=0.1))
    a = build(**kw)
    a.masker.pad_context = True
    b = copy.deepcopy(a)
    sample = b.masker.sample

    def other_padding(*args, **kwargs):
        out = sample(*args, **kwargs)
        pad = ~out['context_mask']
        assert pad.any()  # there is padding to move
        out['context'][pad] = (out['context'][pad] + 17) % 64
        return out

    b.masker.sample = other_padding
    x = torch.randn(16, 3, 32, 32)
    la, lb = a(x, mode='loss'), b(x, mode='loss')
    assert set(la) == set(lb) and 'loss_reg' in la
    for k in la:
        torch.testing.assert_close(la[k], lb[k], rtol=1e-5, atol=1e-6, msg=k)


def test_regulariser_only_skips_the_predictor():
    model = build(
        weights=(0.0, 0.0, 0.0),
        head=dict(regularizer=dict(type='SIGReg'), reg_weight=1.0))
    called = []
    model.predictor.register_forward_hook(lambda *a: called.append(1))
    losses = model(torch.randn(8, 3, 32, 32), mode='loss')
    assert set(k for k in losses if 'loss' in k) == {'loss_reg'}
    assert not called


@pytest.mark.parametrize(
    'levels, weights, head',
    [
        # image levels read the pooled context, not the predictor
        ([PATCH, dict(kind='image')], (0.0, 1.0), {}),
        ([dict(kind='image')], (1.0, ), dict(learn_weights=True)),
        # the regulariser alone, region levels (embeddings) unweighted
        (QUERY_LEVELS, (0.0, 0.0, 0.0),
         dict(regularizer=dict(type='SIGReg'), reg_weight=1.0)),
    ])
def test_without_prediction_every_trained_parameter_gets_a_gradient(
        levels, weights, head):
    """What DDP (find_unused_parameters=False) needs: a parameter left
    trainable that no loss reads would stop a distributed run."""
    model = build(levels, weights, head=head)
    called = []
    model.predictor.register_forward_hook(lambda *a: called.append(1))
    losses = model(torch.randn(8, 3, 32, 32), mode='loss')
    assert not called
    scored = {k for k in losses if k.startswith('loss')}
    image = [
        f'loss_level{i}' for i, lv in enumerate(levels)
        if lv['kind'] == 'image'
    ]
    assert scored == set(image) | ({'loss_reg'}
                                   if head.get('regularizer') else set())
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    trained = {n: p for n, p in model.named_parameters() if p.requires_grad}
    assert not [n for n in trained if n.startswith('predictor.')]
    missing = [n for n, p in trained.items() if p.grad is None]
    assert not missing, missing
    assert any(n.startswith('backbone.') for n in trained)


def test_legacy_checkpoint_keys_migrate():
    """A state dict of the layout before the head owned the window levels'
    projections (``neck.heads.{l}``) loads, and the projections land in
    ``head.projs.{l}``."""
    model = build([PATCH, dict(kind='window', side=2)], (1.0, 0.5))
    state = {k: v.clone() for k, v in model.state_dict().items()}
    old = {
        k.replace('head.projs.', 'neck.heads.'): v.clone() + 1
        for k, v in state.items()
    }
    model.load_state_dict(old)
    torch.testing.assert_close(model.head.projs[1].weight,
                               state['head.projs.1.weight'] + 1)


def test_multi_crop_predicts_the_whole_image_from_crops():
    model = build(multi_crop=dict(num_crops=2, size=16))
    seen = []
    model.backbone.register_forward_pre_hook(
        lambda m, args: seen.append(tuple(args[0].shape)))
    losses = model(torch.randn(3, 3, 32, 32), mode='loss')
    assert (6, 3, 16, 16) in seen  # two 16 px crops of each image, whole
    assert losses['loss_crops'] > 0
    model.zero_grad()
    losses['loss_crops'].backward()
    assert model.backbone.patch_embed.weight.grad.abs().sum() > 0


def test_multi_crop_needs_a_whole_image_level():
    with pytest.raises(ValueError, match='whole-image level'):
        build([PATCH, dict(kind='region', grid=2)], (1.0, 1.0),
              multi_crop=dict(num_crops=1))
    with pytest.raises(ValueError, match='multiple of the patch size'):
        build(multi_crop=dict(size=10))


def test_one_seed_for_masks_and_augmentation():
    """The model's seed defaults to the one the runner set (torch's), and
    its data preprocessor draws from the same; a second seed is refused."""
    augment = dict(type='HJEPADataPreprocessor', batch_augment=dict())
    torch.manual_seed(7)
    model = build([PATCH], (1.0, ), data_preprocessor=augment)
    assert model.seed == 7 and model.data_preprocessor.seed == 7
    torch.manual_seed(8)
    assert build([PATCH], (1.0, )).seed == 8  # so masks change with it
    assert build([PATCH], (1.0, ), seed=3).seed == 3
    with pytest.raises(ValueError, match='preprocessor seed 4 differs'):
        build([PATCH], (1.0, ),
              seed=3,
              data_preprocessor=dict(augment, seed=4))


def test_the_runner_seed_is_the_model_seed(tmp_path, cifar_root):
    from mmengine.runner import Runner

    from tests.helpers import smoke_config
    cfg = smoke_config(tmp_path, cifar_root, 'one_seed')
    cfg.randomness = dict(seed=11)
    model = Runner.from_cfg(cfg).model
    assert model.seed == 11 and model.data_preprocessor.seed == 11


def test_query_predictor_keeps_the_coarse_levels_off_the_predictor():
    """With a predictor of their own the region levels train it and the
    context encoder, never the block predictor; level 0 the reverse."""
    qp = QUERY_PREDICTOR
    model = build(query_predictor=qp)
    model.train()
    x = torch.randn(4, 3, 32, 32)
    losses = model(x, mode='loss')
    losses['loss_level1'].backward(retain_graph=True)
    assert model.backbone.patch_embed.weight.grad.abs().sum() > 0
    assert model.query_predictor.embed.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.predictor.parameters())
    model.zero_grad(set_to_none=True)
    losses['loss_level0'].backward()
    assert all(p.grad is None for p in model.query_predictor.parameters())
    assert model.predictor.embed.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match='embed_dims 48 must equal'):
        build(query_predictor=dict(qp, embed_dims=48, num_heads=3))
    with pytest.raises(ValueError, match='needs region levels'):
        build(levels=[PATCH], weights=(1.0, ), query_predictor=qp)


def test_multiway_predictor_needs_query_levels_of_its_own():
    """The multiway predictor's query weights must be trained: without
    region levels, or with the queries on a query_predictor, nothing would
    reach them (and DDP would stop on their missing gradients)."""
    model = build(predictor=dict(multiway=True))
    losses = model(torch.randn(2, 3, 32, 32), mode='loss')
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    assert all(p.grad is not None for p in model.predictor.parameters())
    with pytest.raises(ValueError, match='the head has no region levels'):
        build(levels=[PATCH], weights=(1.0, ), predictor=dict(multiway=True))
    with pytest.raises(ValueError, match='would never be used'):
        build(predictor=dict(multiway=True), query_predictor=QUERY_PREDICTOR)
