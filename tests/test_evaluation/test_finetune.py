import torch

from hjepa.evaluation import finetune
from hjepa.evaluation.finetune import batch_augment
from hjepa.models.backbones import HJEPAViT


def _colour_task(n, gen):
    """Class = which channel is bright; learnable by any encoder."""
    y = torch.arange(3).repeat(n // 3)
    x = 0.3 * torch.randn(len(y), 3, 16, 16, generator=gen)
    x[torch.arange(len(y)), y] += 2.0
    return x, y


def test_finetuning_learns_an_easy_task():
    gen = torch.Generator().manual_seed(0)
    train_x, train_y = _colour_task(192, gen)
    test_x, test_y = _colour_task(60, gen)
    encoder = HJEPAViT(
        arch=dict(embed_dims=32, num_layers=2, num_heads=2),
        img_size=16,
        patch_size=4,
        out_type='featmap')
    encoder.init_weights()
    before = [p.clone() for p in encoder.parameters()]
    out = finetune(
        encoder,
        train_x,
        train_y,
        test_x,
        test_y,
        epochs=3,
        batch_size=32,
        lr=3e-3,
        warmup_epochs=0.5)
    assert out['top1'] == 100.0
    # the encoder given is left as it was (a copy is trained)
    for b, p in zip(before, encoder.parameters()):
        assert torch.equal(b, p)


def test_batch_augment_crops_and_flips():
    gen = torch.Generator().manual_seed(0)
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float).view(2, 3, 8, 8)
    out = batch_augment(x, gen, pad=2)
    assert out.shape == x.shape
    assert not torch.equal(out, x)
    no_pad = batch_augment(x, gen, pad=0)
    for img, src in zip(no_pad, x):  # only flips remain
        assert torch.equal(img, src) or torch.equal(img, src.flip(-1))
