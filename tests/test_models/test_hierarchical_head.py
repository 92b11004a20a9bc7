"""What each hierarchy level predicts and how it is scored."""
import pytest
import torch
import torch.nn.functional as F

from hjepa.models import HierarchicalLatentHead
from hjepa.models.utils import sincos_2d
from hjepa.models.utils.pooling import region_pool_matrix

PATCH = dict(kind='patch')


def head(levels, weights, **kwargs):
    h = HierarchicalLatentHead(8, 4, levels, weights, **kwargs)
    h.init_weights()
    return h


def test_region_targets_of_constant_tokens_are_the_constant():
    """A region level's target is the normalised mean of the target
    encoder's tokens over the region: on an image whose tokens are all one
    vector, every region's target is that vector, normalised, and predicting
    it scores 0."""
    h = head([PATCH,
              dict(kind='region', grid=2),
              dict(kind='region', grid=1)], (1.0, 1.0, 1.0))
    c = torch.randn(8)
    tokens = c.expand(2, 64, 8)  # [B, N, D]
    tgt_idx = torch.arange(4).view(1, 1, 4).expand(2, 1, 4)  # one block
    expected = F.layer_norm(c, (8, ))
    queries, groups = h.queries((8, 8), 'cpu')
    assert groups == (4, 1) and queries.shape == (1, 5, 4)
    block_pred = expected.expand(2, 4, 8)
    query_pred = expected.expand(2, 5, 8)
    losses = h.loss(block_pred, query_pred, h.targets([tokens]), tgt_idx,
                    (8, 8))
    for key in ('loss_level0', 'loss_level1', 'loss_level2'):
        assert float(losses[key]) == pytest.approx(0, abs=1e-9)
    losses = h.loss(block_pred, query_pred + 1, h.targets([tokens]), tgt_idx,
                    (8, 8))
    assert losses['loss_level1'] > 0 and losses['loss_level2'] > 0


def test_region_target_pools_the_whole_region_not_the_block():
    h = head([PATCH, dict(kind='region', grid=1, norm=False)], (1.0, 1.0),
             target_norm=False)
    tokens = torch.randn(1, 64, 8)
    tgt_idx = torch.tensor([[[0, 1, 8, 9]]])
    query_pred = tokens.mean(1, keepdim=True)  # the whole image's mean
    losses = h.loss(tokens[:, :4], query_pred, tokens, tgt_idx, (8, 8))
    assert float(losses['loss_level1']) == pytest.approx(0, abs=1e-9)


def test_centred_region_targets_drop_what_the_image_shares():
    """center=True: a quadrant's target is its mean token minus the
    image's; a colour shift shared by every token of the image (adding one
    vector to all of them) leaves the target unchanged."""
    h = head(
        [PATCH, dict(kind='region', grid=2, center=True, norm=False)],
        (1.0, 1.0),
        target_norm=False)
    tokens = torch.randn(1, 64, 8)
    tgt_idx = torch.tensor([[[0, 1, 8, 9]]])
    pool = region_pool_matrix((8, 8), (2, 2))
    expected = pool @ (tokens[0] - tokens[0].mean(0))  # [4, 8]
    losses = h.loss(tokens[:, :4], expected[None], tokens, tgt_idx, (8, 8))
    assert float(losses['loss_level1']) == pytest.approx(0, abs=1e-9)
    shifted = tokens + 5 * torch.randn(8)
    losses = h.loss(tokens[:, :4], expected[None], shifted, tgt_idx, (8, 8))
    assert float(losses['loss_level1']) == pytest.approx(0, abs=1e-9)
    # without centring the shift shows
    plain = head([PATCH, dict(kind='region', grid=2, norm=False)], (1.0, 1.0),
                 target_norm=False)
    losses = plain.loss(tokens[:, :4], expected[None], shifted, tgt_idx,
                        (8, 8))
    assert float(losses['loss_level1']) > 0.1


def test_min_hidden_scores_only_the_hidden_regions():
    """min_hidden=0.5 on 2x2 regions: with a target block covering the
    top-left quadrant's 16 patches (and one patch of the top-right one),
    only the top-left quadrant counts; the level's loss is that quadrant's
    distance alone, whatever is predicted for the others."""
    h = head(
        [PATCH, dict(kind='region', grid=2, norm=False, min_hidden=0.5)],
        (1.0, 1.0),
        target_norm=False,
        loss=dict(type='MSELatentLoss'))
    tokens = torch.randn(1, 64, 8)
    quadrant = [r * 8 + c for r in range(4) for c in range(4)]
    tgt_idx = torch.tensor([quadrant + [4]]).view(1, 1, 17)
    target = region_pool_matrix((8, 8), (2, 2)) @ tokens[0]  # [4, 8]
    pred = target.clone()
    pred[0] += 1.0  # top-left: off by 1 in every feature
    pred[1:] += 100.0  # the visible quadrants: far off, but not scored
    losses = h.loss(tokens[:, :17], pred[None], tokens, tgt_idx, (8, 8))
    assert float(losses['loss_level1']) == pytest.approx(1.0, rel=1e-5)
    # every region scored without min_hidden
    plain = head([PATCH, dict(kind='region', grid=2, norm=False)], (1.0, 1.0),
                 target_norm=False,
                 loss=dict(type='MSELatentLoss'))
    losses = plain.loss(tokens[:, :17], pred[None], tokens, tgt_idx, (8, 8))
    assert float(losses['loss_level1']) == pytest.approx(
        (1.0 + 3 * 100.0**2) / 4, rel=1e-5)
    # a batch in which no region is hidden enough adds 0
    few = torch.tensor([[[0, 1]]])
    losses = h.loss(tokens[:, :2], pred[None], tokens, few, (8, 8))
    assert float(losses['loss_level1']) == 0


def test_a_sampling_level_asks_and_scores_only_the_drawn_regions():
    """sample=k: the k drawn regions' query tokens are the full level's rows
    for them, and the level's loss is the mean distance over those regions
    alone, with the full level's targets (centring still on the whole
    image's mean); a prediction off on an undrawn region cannot move it."""
    levels = [
        PATCH,
        dict(kind='region', grid=4),
        dict(kind='region', grid=8, center=True)
    ]
    full = head(levels, (1.0, 1.0, 1.0), loss=dict(type='MSELatentLoss'))
    sampled = head(
        levels[:2] + [dict(levels[2], sample=5)], (1.0, 1.0, 1.0),
        loss=dict(type='MSELatentLoss'))
    sampled.load_state_dict(full.state_dict())
    cells = sampled.sample_cells(torch.Generator().manual_seed(0))
    assert list(cells) == [2] and cells[2].shape == (5, )
    assert len(set(cells[2].tolist())) == 5 and 0 <= cells[2].min()
    assert cells[2].max() < 64
    all_queries, groups = full.queries((8, 8), 'cpu')
    queries, sampled_groups = sampled.queries((8, 8), 'cpu', cells)
    assert groups == (16, 64) and sampled_groups == (16, 5)
    rows = torch.cat([torch.arange(16), 16 + cells[2]])
    torch.testing.assert_close(queries, all_queries[:, rows])
    # without cells every region is asked (evaluation, tools)
    assert sampled.queries((8, 8), 'cpu')[1] == (16, 64)

    tokens = torch.randn(2, 64, 8)
    tgt_idx = torch.tensor([[[0, 1, 8, 9]]]).expand(2, 1, 4)
    block_pred = torch.randn(2, 4, 8)
    full_pred = torch.randn(2, 80, 8)
    target = full.targets([tokens])
    want = full.loss(block_pred, full_pred, target, tgt_idx, (8, 8))
    got = sampled.loss(
        block_pred, full_pred[:, rows], target, tgt_idx, (8, 8), cells=cells)
    for key in ('loss_level0', 'loss_level1'):
        torch.testing.assert_close(got[key], want[key])
    centred = target - target.mean(1, keepdim=True)
    tgt = F.layer_norm(centred[:, cells[2]], (8, ))  # grid 8: one patch each
    expected = (full_pred[:, 16 + cells[2]] - tgt).pow(2).mean()
    torch.testing.assert_close(
        got['loss_level2'], expected, rtol=1e-5, atol=1e-6)
    undrawn = [c for c in range(64) if c not in cells[2].tolist()]
    moved = full_pred.clone()
    moved[:, 16 + torch.tensor(undrawn)] += 100.0
    again = sampled.loss(
        block_pred, moved[:, rows], target, tgt_idx, (8, 8), cells=cells)
    torch.testing.assert_close(again['loss_level2'], got['loss_level2'])
    # predictions for every region with the cells of a sample: refused
    with pytest.raises(
            ValueError,
            match='80 query predictions where the '
            'region levels ask 21'):
        sampled.loss(
            block_pred, full_pred, target, tgt_idx, (8, 8), cells=cells)


def test_sampled_regions_differ_between_steps_and_cover_the_grid():
    h = head([PATCH, dict(kind='region', grid=8, sample=16)], (1.0, 1.0))
    gen = torch.Generator()
    drawn = [h.sample_cells(gen.manual_seed(step))[1] for step in range(40)]
    assert not torch.equal(drawn[0], drawn[1])
    assert all(torch.equal(d, d.sort().values) for d in drawn)
    assert set(torch.cat(drawn).tolist()) == set(range(64))
    # the same seed draws the same regions (a resumed step asks the same)
    torch.testing.assert_close(h.sample_cells(gen.manual_seed(3))[1], drawn[3])
    # no sampling level: nothing drawn
    assert head([PATCH, dict(kind='region', grid=8)],
                (1.0, 1.0)).sample_cells(gen) is None


@pytest.mark.parametrize('sample', [0, 65, 2.5, True, '16'])
def test_a_sample_outside_the_grid_is_refused(sample):
    with pytest.raises(ValueError, match=r'sample .* must be None'):
        head([PATCH, dict(kind='region', grid=8, sample=sample)], (1.0, 1.0))


def test_query_tokens_sit_at_their_regions():
    h = head([PATCH, dict(kind='region', grid=2)], (1.0, 1.0))
    queries, _ = h.queries((8, 8), 'cpu')
    pos = region_pool_matrix((8, 8), (2, 2)) @ sincos_2d(4, (8, 8))
    torch.testing.assert_close(queries[0] - h.level_embed[0], pos)


def test_levels_get_their_own_embedding():
    h = head([PATCH,
              dict(kind='region', grid=2),
              dict(kind='region', grid=1)], (1.0, 1.0, 1.0))
    assert h.level_embed.shape == (2, 4)
    assert not torch.equal(h.level_embed[0], h.level_embed[1])


def test_window_level_pools_predictions_inside_the_block():
    """The earlier design: predictions and targets of the block's patches
    averaged per 2x2 window; the linear head starts as the identity."""
    h = head([PATCH, dict(kind='window', side=2)], (1.0, 1.0),
             target_norm=False)
    tokens = torch.randn(1, 64, 8)
    tgt_idx = torch.tensor([[[0, 1, 8, 9]]])  # one whole 2x2 window
    pred = tokens[:, [0, 1, 8, 9]]
    losses = h.loss(pred, None, tokens, tgt_idx, (8, 8))
    assert float(losses['loss_level0']) == 0
    assert float(losses['loss_level1']) == pytest.approx(0, abs=1e-9)


def test_learnt_weights_stay_positive():
    h = head([PATCH, dict(kind='region', grid=1)], (1.0, 0.5),
             learn_weights=True)
    with torch.no_grad():
        h.log_vars.copy_(torch.tensor([3.0, -2.0]))
    tokens = torch.randn(2, 64, 8)
    tgt_idx = torch.arange(4).view(1, 1, 4).expand(2, 1, 4)
    losses = h.loss(
        torch.zeros(2, 4, 8), torch.zeros(2, 1, 8), tokens, tgt_idx, (8, 8))
    w = torch.stack([losses['weight_level0'], losses['weight_level1']])
    torch.testing.assert_close(
        w,
        torch.tensor([1.0, 0.5]) * torch.exp(-torch.tensor([3.0, -2.0])))
    assert (w > 0).all()
    (losses['loss_level0'] + losses['loss_level1']).backward()
    assert h.log_vars.grad is not None


def test_multi_layer_targets_average_normalised_layers():
    h = head([PATCH], (1.0, ), target_layers=2)
    a, b = torch.randn(2, 64, 8), 10 * torch.randn(2, 64, 8)
    ln = lambda x: F.layer_norm(x, (8, ))  # noqa: E731
    torch.testing.assert_close(h.targets([a, b]), ln((ln(a) + ln(b)) / 2))


@pytest.mark.parametrize('levels,weights,match', [
    ([dict(kind='pixel')], (1.0, ), 'kind must be one of'),
    ([dict(kind='region', side=2)], (1.0, ), 'unknown keys'),
    ([dict(kind='window', side=3)], (1.0, ), 'power of 2'),
    ([PATCH, dict(kind='region', grid=0)], (1.0, 1.0), 'at least'),
    ([PATCH], (-1.0, ), 'non-negative'),
    ([PATCH, dict(kind='region', grid=1, center=True)],
     (1.0, 1.0), 'zero target'),
    ([PATCH], (0.0, ), 'nothing would be learnt'),
    ([PATCH, dict(kind='region', grid=2, min_hidden=1.5)],
     (1.0, 1.0), 'min_hidden 1.5 must be a fraction'),
    ([PATCH, dict(kind='region', grid=2, min_hidden=True)],
     (1.0, 1.0), 'min_hidden True must be a fraction'),
    ([PATCH], (1.0, 1.0), 'one weight per level'),
    ([PATCH, dict(kind='image', hidden=0)],
     (1.0, 1.0), 'hidden 0 must be a positive int'),
    ([PATCH, dict(kind='image', grid=2)], (1.0, 1.0), 'unknown keys'),
])
def test_bad_levels_are_refused(levels, weights, match):
    with pytest.raises(ValueError, match=match):
        HierarchicalLatentHead(8, 4, levels, weights)


def test_image_level_reads_the_pooled_real_context_tokens():
    """An image level scores its MLP on the mean of the real (unpadded)
    context tokens against the normalised mean of every target token; a
    padded token's value changes nothing, and the gradient reaches the
    context tokens."""
    h = head([PATCH, dict(kind='image', hidden=16)], (1.0, 0.5),
             loss=dict(type='MSELatentLoss'))
    mlp = h.projs[1]
    tokens = torch.randn(2, 64, 8)
    tgt_idx = torch.arange(4).view(1, 1, 4).expand(2, 1, 4)
    context = torch.randn(2, 5, 8, requires_grad=True)
    mask = torch.tensor([[True] * 5, [True, True, True, False, False]])
    target_tokens = h.targets([tokens])
    block_pred = target_tokens[:, :4]  # level 0 scores 0

    def score(ctx):
        return h.loss(
            block_pred,
            None,
            target_tokens,
            tgt_idx, (8, 8),
            ctx,
            context_mask=mask)

    losses = score(context)
    pooled = torch.stack([context[0].mean(0), context[1, :3].mean(0)])
    ln = lambda x: F.layer_norm(x, (8, ))  # noqa: E731
    target = ln(ln(tokens).mean(1))  # target tokens are normalised first
    expected = 0.5 * ((mlp(pooled) - target)**2).mean()
    torch.testing.assert_close(losses['loss_level1'], expected)
    assert float(losses['loss_level0']) == pytest.approx(0, abs=1e-9)
    losses['loss_level1'].backward()
    assert context.grad[0].abs().sum() > 0
    assert context.grad[1, 3:].abs().sum() == 0  # padding
    moved = context.detach().clone()
    moved[1, 3:] += 100  # padded tokens: the loss does not move
    torch.testing.assert_close(score(moved)['loss_level1'], expected)
    assert h.level_names() == ['patch', 'image']
    with pytest.raises(ValueError, match='image levels need the context'):
        h.loss(block_pred, None, target_tokens, tgt_idx, (8, 8))


def test_crop_predictions_of_the_whole_image_target_score_zero():
    h = head([PATCH, dict(kind='region', grid=1)], (1.0, 0.5))
    tokens = torch.randn(2, 64, 8)
    target = F.layer_norm(tokens.mean(1, keepdim=True), (8, ))  # [2, 1, 8]
    crops = target.repeat(3, 1, 1)  # three crops of each image, crop-major
    assert float(h.crop_loss(crops, tokens, 3, 1.0)) == pytest.approx(
        0, abs=1e-9)
    shuffled = target.flip(0).repeat(3, 1, 1)  # each crop gets the other's
    assert float(h.crop_loss(shuffled, tokens, 3, 1.0)) > 0
    query = h.crop_query((4, 4), 'cpu')
    torch.testing.assert_close(query[0, 0],
                               sincos_2d(4, (4, 4)).mean(0) + h.level_embed[0])


def test_depth_levels_resolve_their_blocks():
    """A depth level names a block of the target encoder (negative from the
    last) and reads the predictor block at the same relative depth unless
    told otherwise; the head asks the encoder for exactly the blocks its
    levels need."""
    h = head([
        PATCH,
        dict(kind='depth', layer=2),
        dict(kind='depth', layer=-1),
        dict(kind='depth', layer=0, pred_layer=-1)
    ], (1.0, 0.5, 0.5, 0.5))
    h.set_depths(6, 4)
    resolved = [(lv['block'], lv['pred_block']) for lv in h.levels[1:]]
    assert resolved == [(2, 1), (5, 3), (0, 3)]
    assert h.encoder_blocks(6) == [0, 2, 5]
    assert h.predictor_blocks == [1, 3]
    assert h.level_names() == ['patch', 'depth2', 'depth-1', 'depth0']
    # its own norm and head, from the predictor's width to the encoder's
    assert h.projs[1][1].in_features == 4 and h.projs[1][1].out_features == 8


@pytest.mark.parametrize('level, match', [
    (dict(kind='depth'), 'layer must be an integer'),
    (dict(kind='depth', layer=1.0), 'layer must be an integer'),
    (dict(kind='depth', layer=1, pred_layer=True), 'pred_layer must be'),
    (dict(kind='depth', layer=1, proj=True), 'unknown keys'),
])
def test_depth_level_refuses_bad_specs(level, match):
    with pytest.raises(ValueError, match=match):
        head([PATCH, level], (1.0, 0.5))


def test_numpy_numbers_from_a_config_are_accepted_as_python_ones():
    """A level spec built with numpy (a sweep over np.arange, say) is the
    same level as one written with Python numbers: widths and block indices
    are stored as ints, fractions as floats."""
    np = pytest.importorskip('numpy')
    h = head([
        PATCH,
        dict(kind='image', hidden=np.int64(16)),
        dict(kind='depth', layer=np.int32(2), pred_layer=np.int64(-1)),
        dict(kind='region', grid=2, min_hidden=np.float32(0.5)),
    ], (1.0, 0.5, 0.5, 0.5))
    h.set_depths(6, 4)
    assert h.projs[1][1].out_features == 16
    assert type(h.levels[1]['hidden']) is int
    assert (h.levels[2]['block'], h.levels[2]['pred_block']) == (2, 3)
    assert type(h.levels[2]['layer']) is int
    assert h.levels[3]['min_hidden'] == 0.5
    with pytest.raises(ValueError, match='hidden 0 must be a positive int'):
        head([PATCH, dict(kind='image', hidden=np.int64(0))], (1.0, 0.5))


def test_depth_level_needs_hidden_states():
    h = head([PATCH, dict(kind='depth', layer=0)], (1.0, 0.5))
    h.set_depths(2, 1)
    tokens = torch.randn(2, 64, 8)
    tgt_idx = torch.arange(4).view(1, 1, 4).expand(2, 1, 4)
    with pytest.raises(ValueError, match='hidden states'):
        h.loss(tokens[:, :4], None, tokens, tgt_idx, (8, 8))


def test_depth_level_unresolved_is_named():
    """A head used on its own must be told the depths before it can say
    which blocks it reads; it says so instead of failing on a missing key."""
    h = head([PATCH, dict(kind='depth', layer=0)], (1.0, 0.5))
    with pytest.raises(RuntimeError, match=r'level 1 .*set_depths'):
        h.encoder_blocks(6)
    with pytest.raises(RuntimeError, match=r'level 1 .*set_depths'):
        h.predictor_blocks
