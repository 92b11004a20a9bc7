import pytest
import torch

from hjepa.models import MultiBlockMasker


def test_shapes_and_disjoint():
    masker = MultiBlockMasker()
    out = masker.sample(16, (8, 8))
    ctx, tgt = out['context'], out['targets']
    assert ctx.dtype == tgt.dtype == torch.long
    assert tgt.shape[:2] == (16, 4)
    assert ctx.shape[0] == 16 and ctx.shape[1] >= masker.min_context
    for b in range(16):
        assert not set(ctx[b].tolist()) & set(tgt[b].flatten().tolist())
        assert ctx[b].unique().numel() == ctx.shape[1]
        assert (ctx[b].diff() > 0).all()


def test_targets_are_rectangles():
    out = MultiBlockMasker().sample(8, (14, 14))
    for block in out['targets'].flatten(0, 1):
        rows, cols = block // 14, block % 14
        h = rows.max() - rows.min() + 1
        w = cols.max() - cols.min() + 1
        assert h * w == block.numel()


def test_defaults_are_ijepa():
    m = MultiBlockMasker()
    assert m.num_targets == 4
    assert m.target_scale == (0.15, 0.2)
    assert m.target_aspect_ratio == (0.75, 1.5)
    assert m.context_scale == (0.85, 1.0)


def test_every_position_reachable():
    masker = MultiBlockMasker()
    seen_tgt = torch.zeros(64, dtype=torch.bool)
    seen_ctx = torch.zeros(64, dtype=torch.bool)
    for _ in range(50):
        out = masker.sample(32, (8, 8))
        seen_tgt[out['targets'].flatten()] = True
        seen_ctx[out['context'].flatten()] = True
    assert seen_tgt.all() and seen_ctx.all()


def test_trimming_drops_random_positions():
    # Equal lengths come from random subsets, not from cutting the tail.
    masker = MultiBlockMasker(
        num_targets=1, target_scale=(0.1, 0.1), context_scale=(1.0, 1.0))
    kept_last = 0
    for _ in range(20):
        out = masker.sample(8, (8, 8))
        kept_last += (out['context'] == 63).any(1).sum().item()
    assert kept_last > 0


def test_reproducible_from_seed():
    a = MultiBlockMasker(seed=3).sample(4, (8, 8))
    b = MultiBlockMasker(seed=3).sample(4, (8, 8))
    c = MultiBlockMasker(seed=4).sample(4, (8, 8))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a['targets'], c['targets'])
    g1 = torch.Generator().manual_seed(7)
    g2 = torch.Generator().manual_seed(7)
    masker = MultiBlockMasker()
    assert torch.equal(
        masker.sample(4, (8, 8), g1)['context'],
        masker.sample(4, (8, 8), g2)['context'])


@pytest.mark.parametrize('kwargs,match', [
    (dict(num_targets=0), 'num_targets'),
    (dict(target_scale=(0.3, 0.2)), 'target_scale'),
    (dict(context_scale=(0.5, 1.5)), 'context_scale'),
    (dict(min_context=0), 'min_context'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MultiBlockMasker(**kwargs)


def test_impossible_config_errors():
    masker = MultiBlockMasker(
        num_targets=4, target_scale=(0.9, 1.0), min_context=10, max_tries=3)
    with pytest.raises(RuntimeError, match='min_context'):
        masker.sample(4, (8, 8))


def test_padded_contexts_keep_every_context_patch():
    """pad_context keeps each sample's whole context (the context block
    minus the targets), first in its row, where cutting keeps the batch's
    smallest."""
    kw = dict(seed=5)
    cut = MultiBlockMasker(**kw).sample(32, (8, 8))
    out = MultiBlockMasker(pad_context=True, **kw).sample(32, (8, 8))
    ctx, valid, tgt = out['context'], out['context_mask'], out['targets']
    assert torch.equal(tgt, cut['targets'])  # same draws up to the cut
    counts = valid.sum(1)
    assert ctx.shape == valid.shape and ctx.shape[1] == counts.max()
    assert counts.min() == cut['context'].shape[1]
    assert counts.float().mean() > cut['context'].shape[1]
    for b in range(32):
        n = int(counts[b])
        assert valid[b, :n].all() and not valid[b, n:].any()
        kept = ctx[b, :n]
        assert (kept.diff() > 0).all()
        assert not set(kept.tolist()) & set(tgt[b].flatten().tolist())
        # the cut context is a subset of the whole one
        assert set(cut['context'][b].tolist()) <= set(kept.tolist())
