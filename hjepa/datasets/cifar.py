"""CIFAR-10 set up as an ImageFolder from the offline archive (or the web)."""
import hashlib
import os
import os.path as osp
import pickle
import tarfile
import tempfile
import urllib.request
from typing import List, Optional, Sequence

import numpy as np
from PIL import Image

CIFAR10_CLASSES = ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog',
                   'frog', 'horse', 'ship', 'truck')
JPG_ARCHIVE = 'cifar10-jpg.tar.gz'
JPG_SHA256 = 'd175fc167b175a42e060bf346e298bccfbfc54be7bebb9686bd463d2f838c72b'
OFFICIAL_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz'
OFFICIAL_MD5 = 'c58f30108f718f92721af3b95e74349a'
_REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def is_prepared(data_root: str) -> bool:
    """Whether ``data_root/{train,test}/<class>/`` holds all ten classes."""
    return all(
        osp.isdir(osp.join(data_root, split, c)) for split in ('train', 'test')
        for c in CIFAR10_CLASSES)


def archive_candidates(data_root: str) -> List[str]:
    """Where the JPEG archive is looked for, in order."""
    places = []
    if os.environ.get('HJEPA_CIFAR10_ARCHIVE'):
        places.append(os.environ['HJEPA_CIFAR10_ARCHIVE'])
    parent = osp.dirname(osp.abspath(data_root))
    places += [
        osp.join(parent, JPG_ARCHIVE),
        osp.join(_REPO_ROOT, 'data', JPG_ARCHIVE),
        osp.join(_REPO_ROOT, '..', 'shared', 'data', JPG_ARCHIVE),
        osp.join(os.getcwd(), '..', 'shared', 'data', JPG_ARCHIVE),
    ]
    return [osp.normpath(p) for p in places]


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def _extract_jpg_archive(archive: str, data_root: str) -> None:
    """The archive holds ``cifar10/{train,test}``; unpack it as data_root."""
    checksum = _sha256(archive)
    if checksum != JPG_SHA256:
        raise ValueError(f'{archive} has sha256 {checksum}, expected '
                         f'{JPG_SHA256}: the file is damaged or another one')
    parent = osp.dirname(osp.abspath(data_root))
    os.makedirs(parent, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=parent) as tmp:
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter='data')
        os.replace(osp.join(tmp, 'cifar10'), osp.abspath(data_root))


def _download_official(data_root: str, timeout: float) -> None:
    """Fetch the official pickled archive and write it as an ImageFolder."""
    parent = osp.dirname(osp.abspath(data_root))
    os.makedirs(parent, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=parent) as tmp:
        archive = osp.join(tmp, 'cifar-10-python.tar.gz')
        with urllib.request.urlopen(OFFICIAL_URL, timeout=timeout) as r, \
                open(archive, 'wb') as f:
            f.write(r.read())
        with open(archive, 'rb') as f:
            md5 = hashlib.md5(f.read()).hexdigest()
        if md5 != OFFICIAL_MD5:
            raise ValueError(f'downloaded {OFFICIAL_URL} has md5 {md5}, '
                             f'expected {OFFICIAL_MD5}')
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter='data')
        out = osp.join(tmp, 'cifar10')
        batches = dict(
            train=[f'data_batch_{i}' for i in range(1, 6)],
            test=['test_batch'])
        for split, names in batches.items():
            count = [0] * 10
            for name in names:
                with open(osp.join(tmp, 'cifar-10-batches-py', name),
                          'rb') as f:
                    batch = pickle.load(f, encoding='bytes')
                images = batch[b'data'].reshape(-1, 3, 32, 32)
                for img, label in zip(images, batch[b'labels']):
                    folder = osp.join(out, split, CIFAR10_CLASSES[label])
                    os.makedirs(folder, exist_ok=True)
                    Image.fromarray(np.transpose(img, (1, 2, 0))).save(
                        osp.join(folder, f'{count[label]:04d}.png'))
                    count[label] += 1
        os.replace(out, osp.abspath(data_root))


def prepare_cifar10(data_root: str = 'data/cifar10',
                    archives: Optional[Sequence[str]] = None,
                    download: bool = True,
                    timeout: float = 30.0) -> str:
    """Make sure CIFAR-10 is at ``data_root/{train,test}/<class>/``.

    Looks for the offline JPEG archive (``$HJEPA_CIFAR10_ARCHIVE``, next to
    ``data_root``, ``data/`` and ``../shared/data/``), checks its sha256 and
    unpacks it; failing that, downloads the official archive where the
    network allows.

    Returns:
        ``data_root``.

    Raises:
        FileNotFoundError: listing every place looked at, when neither the
            archive nor the download is available.
    """
    if is_prepared(data_root):
        return data_root
    places = list(archives) if archives is not None else archive_candidates(
        data_root)
    for archive in places:
        if osp.isfile(archive):
            _extract_jpg_archive(archive, data_root)
            return data_root
    reason = 'download disabled'
    if download:
        try:
            _download_official(data_root, timeout)
            return data_root
        except (OSError, ValueError) as e:
            reason = f'download of {OFFICIAL_URL} failed: {e}'
    looked = '\n  '.join([osp.abspath(data_root) + ' (prepared folders)'] +
                         places)
    raise FileNotFoundError(
        f'CIFAR-10 not found. Looked for it at:\n  {looked}\nand {reason}. '
        f'Put {JPG_ARCHIVE} in one of those places or set '
        'HJEPA_CIFAR10_ARCHIVE to its path.')
