import os
import os.path as osp

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


@pytest.fixture(scope='session')
def cifar_root():
    """CIFAR-10 unpacked at data/cifar10 (from ../shared/data)."""
    from hjepa.datasets import prepare_cifar10
    root = osp.join(REPO, 'data', 'cifar10')
    prepare_cifar10(root, download=False)
    return root


@pytest.fixture(autouse=True, scope='session')
def _registered():
    from hjepa.utils import register_all_modules
    register_all_modules()
    os.environ.setdefault('OMP_NUM_THREADS', '2')
