import os

import numpy as np
import pytest
import torch
from PIL import Image

from hjepa.datasets import (ImageFolderDataset, InMemoryImageFolder,
                            JEPARandomFlip, JEPARandomResizedCrop,
                            JEPAResizeCenterCrop, LoadImageRGB, PackJEPAInputs,
                            scan_image_folder)


def write_images(folder, names, size=(8, 8)):
    os.makedirs(folder, exist_ok=True)
    for i, name in enumerate(names):
        Image.fromarray(np.full(size + (3, ), i * 10, dtype=np.uint8)).save(
            os.path.join(folder, name))


def test_scan_with_and_without_classes(tmp_path):
    write_images(tmp_path / 'labelled' / 'b', ['1.png', '0.jpg'])
    write_images(tmp_path / 'labelled' / 'a', ['x.png'])
    paths, labels, classes = scan_image_folder(str(tmp_path / 'labelled'))
    assert classes == ['a', 'b']
    assert labels == [0, 1, 1]
    assert paths[1].endswith('0.jpg')
    write_images(tmp_path / 'flat', ['1.png', '2.png'])
    _, labels, classes = scan_image_folder(str(tmp_path / 'flat'))
    assert labels == [-1, -1] and classes == []


def test_missing_or_empty_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match='does not exist'):
        scan_image_folder(str(tmp_path / 'nope'))
    (tmp_path / 'empty').mkdir()
    with pytest.raises(FileNotFoundError, match='no images'):
        scan_image_folder(str(tmp_path / 'empty'))


def test_corrupt_image_names_the_file(tmp_path):
    write_images(tmp_path / 'c' / 'a', ['good.png'])
    bad = tmp_path / 'c' / 'a' / 'bad.png'
    bad.write_bytes(b'not an image at all')
    with pytest.raises(OSError, match='bad.png'):
        InMemoryImageFolder(str(tmp_path / 'c'))
    ds = ImageFolderDataset(
        str(tmp_path / 'c'), pipeline=[dict(type='LoadImageRGB')])
    with pytest.raises(OSError, match='bad.png'):
        ds[0]


def test_in_memory_needs_one_size(tmp_path):
    write_images(tmp_path / 'm' / 'a', ['0.png'], size=(8, 8))
    write_images(tmp_path / 'm' / 'b', ['0.png'], size=(9, 8))
    with pytest.raises(ValueError, match='one size'):
        InMemoryImageFolder(str(tmp_path / 'm'))


def test_in_memory_items(tmp_path):
    write_images(tmp_path / 'm' / 'a', ['0.png', '1.png'])
    write_images(tmp_path / 'm' / 'b', ['0.png'])
    ds = InMemoryImageFolder(str(tmp_path / 'm'))
    assert len(ds) == 3
    item = ds[2]
    assert item['inputs'].shape == (3, 8, 8)
    assert item['inputs'].dtype == torch.uint8
    assert int(item['data_samples']) == 1
    unlabelled = InMemoryImageFolder(str(tmp_path / 'm'), with_label=False)
    assert int(unlabelled[2]['data_samples']) == -1


def test_disk_pipeline(tmp_path):
    write_images(tmp_path / 'd' / 'a', ['0.png'], size=(40, 30))
    ds = ImageFolderDataset(
        str(tmp_path / 'd'),
        pipeline=[
            dict(type='LoadImageRGB'),
            dict(type='JEPARandomResizedCrop', size=16),
            dict(type='JEPARandomFlip', prob=0.5),
            dict(type='PackJEPAInputs'),
        ])
    item = ds[0]
    assert item['inputs'].shape == (3, 16, 16)
    assert int(item['data_samples']) == 0
    center = JEPAResizeCenterCrop(16)(
        LoadImageRGB()(dict(img_path=ds.paths[0])))
    assert center['img'].shape == (16, 16, 3)


def test_cifar10_in_memory(cifar_root):
    ds = InMemoryImageFolder(cifar_root, 'test', max_samples=100)
    assert len(ds) == 100
    assert ds.images.shape == (100, 3, 32, 32)
    assert ds.metainfo['classes'][0] == 'airplane'
    assert set(ds.labels.tolist()) == set(range(10))


def test_transform_errors():
    with pytest.raises(ValueError, match='crop scale'):
        JEPARandomResizedCrop(8, scale=(0.5, 0.1))
    assert JEPARandomFlip(0.0)(dict(img=np.zeros((2, 2, 3))))['img'].shape
    assert PackJEPAInputs()(
        dict(img=np.zeros((2, 2, 3), np.uint8)))['inputs'].shape == (3, 2, 2)
