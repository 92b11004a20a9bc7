"""Building blocks: stochastic depth and the fixed position embedding."""
import math

import pytest
import torch

from hjepa.models.utils.layers import DropPath
from hjepa.models.utils.pos_embed import sincos_2d


def test_drop_path_drops_whole_samples_and_keeps_the_mean():
    torch.manual_seed(0)
    x = torch.ones(20000, 3, 4)
    drop = DropPath(0.25).train()
    y = drop(x)
    per_sample = y.flatten(1)
    # a sample is either dropped (all 0) or kept and scaled by 1 / 0.75
    kept = per_sample[:, 0] > 0
    assert torch.equal(per_sample[kept],
                       torch.full_like(per_sample[kept], 4 / 3))
    assert torch.equal(per_sample[~kept], torch.zeros_like(per_sample[~kept]))
    # 20000 Bernoulli(0.25) draws: the dropped share within 4 std of 0.25
    assert abs((~kept).float().mean().item() -
               0.25) < 4 * math.sqrt(0.25 * 0.75 / 20000)
    assert torch.equal(DropPath(0.25).eval()(x), x)
    assert torch.equal(DropPath(0.0).train()(x), x)
    with pytest.raises(ValueError, match='drop path rate 1.0'):
        DropPath(1.0)


def test_sincos_2d_known_values():
    pe = sincos_2d(8, (2, 3))  # 2 rows, 3 columns, row-major
    assert pe.shape == (6, 8)
    # row half: sin(r * w), cos(r * w) with w = 1 / 10000^(k / 2), k = 0, 1
    # column half: the same of c
    w = torch.tensor([1.0, 1.0 / 100.0])

    def half(p):
        return torch.cat([torch.sin(p * w), torch.cos(p * w)])

    for i in range(6):
        r, c = divmod(i, 3)
        torch.testing.assert_close(
            pe[i], torch.cat([half(r), half(c)]), rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match='multiple of 4'):
        sincos_2d(6, (2, 2))


def test_gpu_attention_leaves_out_cudnn_and_matches_plain_attention():
    """cuDNN's fused attention re-plans for every new context length
    (208 of a 390 ms ViT-B/16 step on an H200): it must stay out."""
    from torch.nn.attention import SDPBackend

    from hjepa.models.utils.layers import CUDA_SDPA_BACKENDS, Attention
    assert SDPBackend.CUDNN_ATTENTION not in CUDA_SDPA_BACKENDS
    assert SDPBackend.MATH in CUDA_SDPA_BACKENDS  # any mask still runs
    if not torch.cuda.is_available():
        pytest.skip('the GPU path needs a GPU')
    torch.manual_seed(0)
    attn = Attention(64, 4).cuda()
    x = torch.randn(3, 37, 64, device='cuda')
    mask = torch.rand(37, 37, device='cuda') > 0.3
    mask.fill_diagonal_(True)
    q, k, v = attn.qkv(x).reshape(3, 37, 3, 4, 16).permute(2, 0, 3, 1,
                                                           4).unbind(0)
    want = Attention._math_attention(q, k, v, mask)
    want = attn.proj(want.transpose(1, 2).reshape(3, 37, 64))
    torch.testing.assert_close(attn(x, mask), want, rtol=1e-4, atol=1e-5)
