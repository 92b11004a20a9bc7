import os

import pytest

from hjepa.datasets import CIFAR10_CLASSES, prepare_cifar10
from hjepa.datasets.cifar import archive_candidates, is_prepared


def test_prepared_root_is_returned(cifar_root):
    assert is_prepared(cifar_root)
    assert prepare_cifar10(cifar_root, archives=[], download=False) == \
        cifar_root
    assert sorted(os.listdir(os.path.join(cifar_root,
                                          'train'))) == list(CIFAR10_CLASSES)


def test_missing_archive_lists_where_it_looked(tmp_path):
    missing = str(tmp_path / 'nowhere' / 'cifar10-jpg.tar.gz')
    with pytest.raises(FileNotFoundError) as err:
        prepare_cifar10(
            str(tmp_path / 'cifar10'), archives=[missing], download=False)
    assert missing in str(err.value)
    assert 'HJEPA_CIFAR10_ARCHIVE' in str(err.value)


def test_damaged_archive_is_refused(tmp_path):
    fake = tmp_path / 'cifar10-jpg.tar.gz'
    fake.write_bytes(b'garbage')
    with pytest.raises(ValueError, match='sha256'):
        prepare_cifar10(
            str(tmp_path / 'cifar10'), archives=[str(fake)], download=False)
    assert not (tmp_path / 'cifar10').exists()


def test_candidates_include_shared_and_env(tmp_path, monkeypatch):
    monkeypatch.setenv('HJEPA_CIFAR10_ARCHIVE', '/some/where.tar.gz')
    places = archive_candidates(str(tmp_path / 'cifar10'))
    assert places[0] == '/some/where.tar.gz'
    assert any(
        p.endswith(os.path.join('shared', 'data', 'cifar10-jpg.tar.gz'))
        for p in places)
