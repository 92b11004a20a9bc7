"""The predictor's two layouts and its attention mask."""
import numpy as np
import pytest
import torch

from hjepa.models import HJEPAPredictor, shared_context_mask


def test_shared_mask_keeps_blocks_apart():
    m = shared_context_mask(2, 2, 1, (2, 1), 'all')
    # tokens: c c | b1 | b2 | q1 q1 | q2
    ctx, b1, b2, q1, q2 = 0, 2, 3, 4, 6
    assert m[ctx].tolist() == [1, 1, 0, 0, 0, 0, 0]
    assert m[b1].tolist() == [1, 1, 1, 0, 0, 0, 0]
    assert m[b2].tolist() == [1, 1, 0, 1, 0, 0, 0]
    assert m[q1].tolist() == [1, 1, 0, 0, 1, 1, 1]
    level = shared_context_mask(2, 2, 1, (2, 1), 'level')
    assert level[q1].tolist() == [1, 1, 0, 0, 1, 1, 0]
    assert level[q2].tolist() == [1, 1, 0, 0, 0, 0, 1]
    finer = shared_context_mask(2, 2, 1, (2, 1), 'finer')
    assert finer[q1].tolist() == [1, 1, 0, 0, 1, 1, 0]
    assert finer[q2].tolist() == [1, 1, 0, 0, 1, 1, 1]
    with pytest.raises(ValueError, match='query_attention'):
        shared_context_mask(2, 2, 1, (), 'some')


def predictor(shared, layers=1, **kwargs):
    torch.manual_seed(0)
    p = HJEPAPredictor(
        16, 8, layers, 2, grid_size=8, shared_context=shared, **kwargs)
    p.init_weights()
    return p


def inputs():
    torch.manual_seed(1)
    ctx_idx = torch.tensor([[0, 5, 20, 40], [3, 9, 30, 60]])
    tgt_idx = torch.tensor([[[10, 11], [50, 51], [12, 13]],
                            [[1, 2], [44, 45], [62, 63]]])
    return torch.randn(2, 4, 16), ctx_idx, tgt_idx


def test_one_layer_layouts_agree():
    """With one layer the layouts differ only in what the context tokens
    attend to, which no prediction reads yet: both give the same output."""
    ctx, ci, ti = inputs()
    a, _ = predictor(False)(ctx, ci, ti)
    b, _ = predictor(True)(ctx, ci, ti)
    assert a.shape == b.shape == (6, 2, 16)
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def test_shared_blocks_do_not_see_each_other():
    ctx, ci, ti = inputs()
    p = predictor(True, layers=2)
    a, _ = p(ctx, ci, ti)
    moved = ti.clone()
    moved[:, 1] += 2  # move the second block only
    b, _ = p(ctx, ci, moved)
    torch.testing.assert_close(
        a.view(2, 3, 2, 16)[:, [0, 2]],
        b.view(2, 3, 2, 16)[:, [0, 2]])
    assert not torch.allclose(
        a.view(2, 3, 2, 16)[:, 1],
        b.view(2, 3, 2, 16)[:, 1])


@pytest.mark.parametrize('shared', [False, True])
def test_queries_are_predicted_from_the_context(shared):
    ctx, ci, ti = inputs()
    p = predictor(shared, layers=2)
    queries = torch.randn(1, 5, 8)
    blocks, out = p(ctx, ci, ti, queries=queries, query_groups=(4, 1))
    assert blocks.shape == (6, 2, 16) and out.shape == (2, 5, 16)
    _, other = p(ctx + 1, ci, ti, queries=queries, query_groups=(4, 1))
    assert not torch.allclose(out, other)
    with pytest.raises(ValueError, match='query_groups'):
        p(ctx, ci, ti, queries=queries, query_groups=(4, 2))


@pytest.mark.parametrize('query_attention', ['all', 'level', 'finer'])
@pytest.mark.parametrize('dtype', [torch.float32, torch.bfloat16])
def test_grouped_attention_equals_the_mask(query_attention, dtype):
    """Attending group by group (context; each block with the context; the
    queries) is the masked sequence's attention: same predictions and
    gradients, in fp32 and under bf16 autocast (the CPU's math path)."""
    ctx, ci, ti = inputs()
    queries = torch.randn(1, 5, 8)
    runs = []
    for grouped in (True, False):
        torch.manual_seed(0)
        p = HJEPAPredictor(
            16,
            8,
            2,
            2,
            grid_size=8,
            shared_context=True,
            query_attention=query_attention,
            grouped_attention=grouped)
        p.init_weights()
        x = ctx.clone().requires_grad_()
        with torch.autocast('cpu', dtype, enabled=dtype != torch.float32):
            blocks, out = p(x, ci, ti, queries=queries, query_groups=(4, 1))
        (blocks.float().square().sum() + out.float().sum()).backward()
        runs.append((blocks.float(), out.float(), x.grad,
                     p.blocks[0].attn.qkv.weight.grad))
    # relative to each tensor's magnitude (the input's gradient is ~1e-5)
    tol = 1e-5 if dtype == torch.float32 else 4e-2  # bf16 eps 8e-3
    for a, b in zip(*runs):
        assert (a - b).abs().max() <= tol * b.abs().max()


def test_grouped_layout_checks_the_sequence():
    from hjepa.models.utils.layers import Attention, GroupedLayout
    with pytest.raises(ValueError, match='needs shared_context=True'):
        HJEPAPredictor(16, 8, 1, 2, grid_size=8, grouped_attention=True)
    attn = Attention(8, 2)
    with pytest.raises(ValueError, match='does not fit a sequence of 9'):
        attn(torch.randn(1, 9, 8), GroupedLayout(2, 3, 2, 0))
    # no blocks (a queries-only call): context and queries only
    out = attn(torch.randn(2, 5, 8), GroupedLayout(3, 0, 0, 2))
    assert out.shape == (2, 5, 8)


@pytest.mark.parametrize('shared', [False, True])
def test_padded_context_predicts_as_the_unpadded(shared):
    """Padding tokens after a sample's context change nothing: each
    sample's predictions equal those from its context alone."""
    ctx, ci, ti = inputs()
    p = predictor(shared, layers=2)
    queries = torch.randn(1, 5, 8)
    valid = torch.tensor([[True, True, True, False],
                          [True, True, False, False]])
    padded = ctx.clone()
    padded[~valid] = 100.0  # garbage in the padding
    blocks, out = p(
        padded,
        ci,
        ti,
        queries=queries,
        query_groups=(4, 1),
        context_mask=valid)
    for b in range(2):
        n = int(valid[b].sum())
        want_b, want_q = p(
            ctx[b:b + 1, :n],
            ci[b:b + 1, :n],
            ti[b:b + 1],
            queries=queries,
            query_groups=(4, 1))
        torch.testing.assert_close(
            blocks.view(2, 3, 2, 16)[b], want_b.view(3, 2, 16))
        torch.testing.assert_close(out[b], want_q[0])
    for bad in (valid.float(), valid[:, :3]):
        with pytest.raises(ValueError, match='context_mask'):
            p(ctx, ci, ti, context_mask=bad)


@pytest.mark.parametrize('shared', [False, True])
def test_hidden_states_of_the_last_block_are_the_prediction(shared):
    """The hidden states returned for depth levels are the target tokens'
    after a block, before the final norm and projection: for the last
    block, norm and projection give the prediction itself."""
    ctx, ci, ti = inputs()
    p = predictor(shared, layers=2)
    pred, _ = p(ctx, ci, ti)
    pred2, _, hidden = p(ctx, ci, ti, hidden_layers=[0, 1])
    torch.testing.assert_close(pred2, pred)
    assert sorted(hidden) == [0, 1] and hidden[0].shape == (6, 2, 8)
    torch.testing.assert_close(p.proj(p.norm(hidden[1])), pred)
    assert not torch.allclose(p.proj(p.norm(hidden[0])), pred)
    with pytest.raises(ValueError, match='hidden_layers'):
        p(ctx, ci, ti, hidden_layers=[2])


@pytest.mark.parametrize('scale', [0.0, 0.25])
def test_query_context_grad_scales_only_the_queries_gradient(scale):
    """Below 1 the queries run in a second sequence: the same predictions,
    the blocks' gradient into the context untouched and the queries'
    scaled by ``query_context_grad`` (0: none)."""
    ctx, ci, ti = inputs()
    queries = torch.randn(1, 5, 8)
    full = predictor(True, layers=2)
    torch.manual_seed(0)
    part = HJEPAPredictor(
        16,
        8,
        2,
        2,
        grid_size=8,
        shared_context=True,
        query_context_grad=scale)
    part.load_state_dict(full.state_dict())

    def grads(p):
        c = ctx.clone().requires_grad_()
        blocks, out = p(c, ci, ti, queries=queries, query_groups=(4, 1))
        g_blocks, = torch.autograd.grad(
            blocks.square().sum(), c, retain_graph=True)
        g_queries, = torch.autograd.grad(out.square().sum(), c)
        return blocks, out, g_blocks, g_queries

    b0, q0, gb0, gq0 = grads(full)
    b1, q1, gb1, gq1 = grads(part)
    torch.testing.assert_close(b1, b0, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(q1, q0, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(gb1, gb0, rtol=1e-5, atol=1e-6)
    assert gq0.abs().sum() > 0
    torch.testing.assert_close(gq1, scale * gq0, rtol=1e-5, atol=1e-6)
    # the queries still train the predictor's own weights at any scale
    part.zero_grad()
    _, out = part(ctx, ci, ti, queries=queries, query_groups=(4, 1))
    out.square().sum().backward()
    assert part.embed.weight.grad.abs().sum() > 0


def test_query_context_grad_is_checked():
    with pytest.raises(ValueError, match=r'query_context_grad 1\.5'):
        HJEPAPredictor(
            16,
            8,
            1,
            2,
            grid_size=8,
            shared_context=True,
            query_context_grad=1.5)
    with pytest.raises(ValueError, match='needs shared_context=True'):
        HJEPAPredictor(16, 8, 1, 2, grid_size=8, query_context_grad=0.0)


def multiway_predictor(layers=2, grouped=False):
    return predictor(True, layers, grouped_attention=grouped, multiway=True)


@pytest.mark.parametrize('grouped,attention,padded', [(False, 'all', False),
                                                      (True, 'all', False),
                                                      (False, 'finer', False),
                                                      (True, 'level', False),
                                                      (False, 'all', True),
                                                      (False, 'level', True)])
def test_multiway_with_copied_weights_is_the_shared_predictor(
        grouped, attention, padded):
    """The query tokens' own weights set to the shared ones: the same
    predictions as one set of weights for every token in one sequence,
    whichever queries a query attends to and with a padded context (the
    multiway queries run as a stream of their own)."""
    ctx, ci, ti = inputs()
    queries = torch.randn(1, 5, 8)
    call = dict(queries=queries, query_groups=(4, 1))
    if padded:  # the last context token of sample 0 is padding
        call['context_mask'] = torch.tensor([[True, True, True, False],
                                             [True, True, True, True]])
    shared = predictor(True, layers=2, query_attention=attention)
    multi = predictor(
        True,
        2,
        grouped_attention=grouped,
        multiway=True,
        query_attention=attention)
    state = shared.state_dict()
    for k, v in shared.state_dict().items():
        if k.startswith('blocks.'):
            state['query_' + k] = v
    state['query_norm.weight'], state['query_norm.bias'] = (
        state['norm.weight'], state['norm.bias'])
    state['query_proj.weight'], state['query_proj.bias'] = (
        state['proj.weight'], state['proj.bias'])
    multi.load_state_dict(state)
    b0, q0 = shared(ctx, ci, ti, **call)
    b1, q1 = multi(ctx, ci, ti, **call)
    torch.testing.assert_close(b1, b0, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(q1, q0, rtol=1e-5, atol=1e-6)
    if padded:  # the padding token's value reaches no prediction
        ctx = ctx.clone()
        ctx[0, 3] += 10.0
        b2, q2 = multi(ctx, ci, ti, **call)
        torch.testing.assert_close(b2, b1, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(q2, q1, rtol=1e-5, atol=1e-6)


def test_multiway_keeps_the_blocks_and_the_queries_weights_apart():
    """The blocks are predicted as without queries, by the shared weights
    alone; the queries read the context through the shared weights (their
    gradient reaches the context and the context's projections) and train
    their own weights, which the blocks' loss never touches."""
    ctx, ci, ti = inputs()
    queries = torch.randn(1, 5, 8)
    p = multiway_predictor()
    alone, none = p(ctx, ci, ti)
    assert none is None
    c = ctx.clone().requires_grad_()
    blocks, out = p(c, ci, ti, queries=queries, query_groups=(4, 1))
    assert out.shape == (2, 5, 16)
    torch.testing.assert_close(blocks, alone, rtol=1e-5, atol=1e-6)
    blocks.square().sum().backward(retain_graph=True)
    assert all(q.grad is None or q.grad.abs().sum() == 0
               for q in p.query_blocks.parameters())
    assert p.query_proj.weight.grad is None
    p.zero_grad()
    c.grad = None
    out.square().sum().backward()
    assert c.grad.abs().sum() > 0
    assert p.blocks[0].attn.qkv.weight.grad.abs().sum() > 0
    assert p.query_blocks[0].mlp.fc1.weight.grad.abs().sum() > 0
    assert p.query_proj.weight.grad.abs().sum() > 0
    # the blocks' own final projection is not the queries'
    assert p.proj.weight.grad is None or p.proj.weight.grad.abs().sum() == 0


def test_multiway_needs_the_shared_layout():
    with pytest.raises(ValueError, match='multiway=True needs shared_context'):
        HJEPAPredictor(16, 8, 1, 2, grid_size=8, multiway=True)


def test_multiway_with_activation_checkpointing_is_the_same():
    """``with_cp`` recomputes both weight sets' activations: the same
    predictions and gradients."""
    ctx, ci, ti = inputs()
    queries = torch.randn(1, 5, 8)
    plain, cp = multiway_predictor(), multiway_predictor()
    cp.with_cp = True
    grads = []
    for p in (plain, cp):
        c = ctx.clone().requires_grad_()
        blocks, out = p(c, ci, ti, queries=queries, query_groups=(4, 1))
        (blocks.square().sum() + out.square().sum()).backward()
        grads.append(
            (blocks, out, c.grad, p.query_blocks[1].attn.qkv.weight.grad))
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('padded', [False, True])
def test_late_queries_are_the_full_stream_with_identity_first_blocks(padded):
    """``query_depth=1`` of two blocks: the queries go through the second
    block only, reading its keys and values, which is the full multiway
    stream whose first query block does nothing (zero output projections);
    the blocks' predictions are those without queries."""
    ctx, ci, ti = inputs()
    queries = torch.randn(1, 5, 8)
    call = dict(queries=queries, query_groups=(4, 1))
    if padded:
        call['context_mask'] = torch.tensor([[True, True, True, False],
                                             [True, True, True, True]])
    late = predictor(True, 2, multiway=True, query_depth=1)
    full = multiway_predictor()
    assert len(late.query_blocks) == 1
    state = late.state_dict()
    for k in list(state):
        if k.startswith('query_blocks.0.'):
            new = k.replace('query_blocks.0.', 'query_blocks.1.')
            state[new] = state.pop(k)
    first = full.query_blocks[0]
    for lin in (first.attn.proj, first.mlp.fc2):
        torch.nn.init.zeros_(lin.weight)
        torch.nn.init.zeros_(lin.bias)
    state.update({
        k: v
        for k, v in full.state_dict().items()
        if k.startswith('query_blocks.0.')
    })
    full.load_state_dict(state)
    b0, q0 = full(ctx, ci, ti, **call)
    b1, q1 = late(ctx, ci, ti, **call)
    torch.testing.assert_close(q1, q0, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(b1, b0, rtol=1e-5, atol=1e-6)
    alone, _ = late(ctx, ci, ti, context_mask=call.get('context_mask'))
    torch.testing.assert_close(b1, alone, rtol=1e-5, atol=1e-6)
    # the second block, not the first, is the one the queries read
    with torch.no_grad():
        late.blocks[1].attn.qkv.weight.normal_()
    _, q2 = late(ctx, ci, ti, **call)
    assert (q2 - q1).abs().max() > 1e-3


@pytest.mark.parametrize('depth,match', [(0, r'query_depth 0 must'),
                                         (3, r'query_depth 3 must'),
                                         (True, r'query_depth True must')])
def test_query_depth_is_checked(depth, match):
    with pytest.raises(ValueError, match=match):
        predictor(True, 2, multiway=True, query_depth=depth)
    with pytest.raises(ValueError, match='query_depth=1 needs multiway'):
        predictor(True, 2, query_depth=1)


def test_query_depth_from_numpy_is_an_int():
    """A config that computes ``query_depth`` with numpy gets the same
    predictor as with a Python int (it was refused as not an int)."""
    p = predictor(True, 2, multiway=True, query_depth=np.int64(1))
    assert p.query_depth == 1 and type(p.query_depth) is int
    assert len(p.query_blocks) == 1
