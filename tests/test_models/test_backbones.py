import pytest
import torch

from hjepa.models import HJEPAViT


def tiny_vit(**kwargs):
    cfg = dict(arch=dict(name='tiny', num_layers=2), img_size=32, patch_size=4)
    cfg.update(kwargs)
    vit = HJEPAViT(**cfg)
    vit.init_weights()
    return vit


def test_tokens_and_subset():
    vit = tiny_vit()
    x = torch.randn(2, 3, 32, 32)
    (out, ) = vit(x)
    assert out.shape == (2, 64, 192)
    idx = torch.tensor([[0, 5, 63], [1, 2, 3]])
    (sub, ) = vit(x, idx)
    assert sub.shape == (2, 3, 192)


def test_subset_sees_only_its_tokens():
    vit = tiny_vit().eval()
    x = torch.randn(1, 3, 32, 32)
    idx = torch.tensor([[0, 1, 2, 3]])
    (a, ) = vit(x, idx)
    x2 = x.clone()
    x2[..., 16:, :] = 0  # rows of patches the subset does not hold
    (b, ) = vit(x2, idx)
    torch.testing.assert_close(a, b)


@pytest.mark.parametrize('dtype', [torch.float32, torch.bfloat16])
def test_padded_subset_encodes_as_the_unpadded(dtype):
    """Tokens masked out by ``idx_mask`` are padding: the real tokens
    encode as they would alone (fp32, and bf16 autocast's own attention)."""
    vit = tiny_vit().eval()
    x = torch.randn(2, 3, 32, 32)
    idx = torch.tensor([[0, 5, 9, 63], [1, 2, 40, 41]])
    valid = torch.tensor([[True, True, True, False],
                          [True, True, False, False]])
    with torch.autocast('cpu', dtype, enabled=dtype != torch.float32):
        (out, ) = vit(x, idx, idx_mask=valid)
        for b in range(2):
            n = int(valid[b].sum())
            (alone, ) = vit(x[b:b + 1], idx[b:b + 1, :n])
            torch.testing.assert_close(out[b, :n], alone[0])
    with pytest.raises(ValueError, match='idx_mask'):
        vit(x, idx, idx_mask=valid[:, :3])
    with pytest.raises(ValueError, match='bool'):  # not an additive bias
        vit(x, idx, idx_mask=valid.float())


def test_out_indices_and_featmap():
    vit = tiny_vit(out_indices=(0, -1), out_type='featmap')
    outs = vit(torch.randn(2, 3, 32, 32))
    assert len(outs) == 2
    assert all(o.shape == (2, 192, 8, 8) for o in outs)
    with pytest.raises(ValueError, match='featmap'):
        vit(torch.randn(1, 3, 32, 32), torch.zeros(1, 4, dtype=torch.long))


def test_other_input_size():
    vit = tiny_vit()
    (out, ) = vit(torch.randn(1, 3, 48, 64))
    assert out.shape == (1, 12 * 16, 192)


@pytest.mark.parametrize('arch,params', [('tiny', 5.5e6), ('small', 21.7e6),
                                         ('base', 85.8e6)])
def test_arch_zoo_sizes(arch, params):
    vit = HJEPAViT(arch=arch, img_size=224, patch_size=16)
    n = sum(p.numel() for p in vit.parameters())
    assert abs(n - params) / params < 0.02


@pytest.mark.parametrize('name, dims, heads, layers', [
    ('tiny', 192, 3, 12),
    ('small', 384, 6, 12),
    ('base', 768, 12, 12),
    ('large', 1024, 16, 24),
    ('huge', 1280, 16, 32),
])
def test_arch_settings_build_the_published_vits(name, dims, heads, layers):
    """Each named arch builds the ViT of Dosovitskiy et al. (Table 1):
    its width, heads, depth, and a block of 12 d^2 + 13 d parameters
    (qkv 3d^2 + 3d, projection d^2 + d, MLP of ratio 4: 8d^2 + 5d, two
    layer norms 4d). One block is built; the depth is read off the
    table."""
    vit = HJEPAViT(
        arch=dict(name=name, num_layers=1), img_size=32, patch_size=16)
    assert HJEPAViT.arch_zoo[name]['num_layers'] == layers
    block = vit.blocks[0]
    assert vit.embed_dims == dims and block.attn.num_heads == heads
    assert sum(p.numel() for p in block.parameters()) == \
        12 * dims**2 + 13 * dims


def test_bad_arguments():
    with pytest.raises(ValueError, match='unknown ViT arch'):
        HJEPAViT(arch='gigantic')
    with pytest.raises(ValueError, match='divisible'):
        HJEPAViT(arch='tiny', img_size=30, patch_size=4)
    with pytest.raises(ValueError, match='out index'):
        HJEPAViT(arch=dict(name='tiny', num_layers=2), out_indices=5)
