import pytest

from hjepa.datasets import make_cifar_composite
from hjepa.utils.checkpoint import convert_pretrain_checkpoint
from tests.test_benchmarks.common import TINY_ARCH, save_pretrain_checkpoint


@pytest.fixture(scope='session')
def composite_root(cifar_root, tmp_path_factory):
    """A tiny CIFAR composite set: 8 training and 4 validation canvases."""
    root = tmp_path_factory.mktemp('cifar_composite')
    make_cifar_composite(cifar_root, str(root), num_train=8, num_val=4)
    return str(root)


@pytest.fixture(scope='session')
def tiny_backbone_checkpoint(tmp_path_factory):
    """A converted checkpoint of a 4-block ViT-Tiny/4 H-JEPA model."""
    folder = tmp_path_factory.mktemp('tiny_ckpt')
    save_pretrain_checkpoint(
        str(folder / 'pretrain.pth'), backbone=dict(arch=TINY_ARCH))
    convert_pretrain_checkpoint(
        str(folder / 'pretrain.pth'), str(folder / 'backbone.pth'))
    return str(folder / 'backbone.pth')
