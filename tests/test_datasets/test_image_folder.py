import logging
import os

import numpy as np
import pytest
import torch
from mmengine.logging import MMLogger
from PIL import Image

from hjepa.datasets import (ImageFolderDataset, InMemoryImageFolder,
                            JEPARandomFlip, JEPARandomResizedCrop,
                            JEPAResizeCenterCrop, LoadImageRGB, PackJEPAInputs,
                            read_rgb, scan_image_folder)
from hjepa.datasets.image_folder import resize_center_crop


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


def test_in_memory_resizes_mixed_sizes_on_load(tmp_path):
    # three vertical stripes 0 / 128 / 255: only a centre crop keeps 128
    stripes = np.repeat(np.array([0, 128, 255], np.uint8), 8)
    wide = np.broadcast_to(stripes[None, :, None], (8, 24, 3)).copy()
    write_images(tmp_path / 'm', ['0.png'], size=(8, 8))
    Image.fromarray(wide).save(tmp_path / 'm' / '1.png')
    write_images(tmp_path / 'm', ['2.png'], size=(4, 2))  # upscaled
    ds = InMemoryImageFolder(str(tmp_path / 'm'))
    assert ds.images.shape == (3, 3, 8, 8)  # the first image's size
    assert (ds.images[1] == 128).all()
    assert (ds.images[2] == 0).all()  # write_images' first colour
    small = InMemoryImageFolder(str(tmp_path / 'm'), img_size=(4, 6))
    assert small.images.shape == (3, 3, 4, 6)
    # the stripes scaled to 4 x 12 px, the middle 6 px kept: dark, grey
    # (blurred at its edges by the resampling), bright
    cols = small.images[1, 0, 0].float()
    assert cols[0] < 100 and abs(cols[1:5].mean() - 128) < 8 and cols[5] > 160
    with pytest.raises(ValueError, match='img_size'):
        InMemoryImageFolder(str(tmp_path / 'm'), img_size=(0, 4))


def test_resize_center_crop_keeps_the_centre():
    img = np.zeros((10, 4, 3), np.uint8)
    img[3:7] = 200  # the middle rows
    out = resize_center_crop(img, (4, 4))
    assert out.shape == (4, 4, 3)
    assert (out == 200).all()
    assert resize_center_crop(img, (10, 4)) is img


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
    img = np.arange(12).reshape(2, 2, 3)
    assert np.array_equal(JEPARandomFlip(0.0)(dict(img=img))['img'], img)
    assert np.array_equal(
        JEPARandomFlip(1.0)(dict(img=img))['img'], img[:, ::-1])
    assert PackJEPAInputs()(
        dict(img=np.zeros((2, 2, 3), np.uint8)))['inputs'].shape == (3, 2, 2)


def test_loose_images_are_kept_beside_stray_subfolders(tmp_path):
    flat = tmp_path / 'photos'
    write_images(flat, ['a.jpg', 'b.jpg', 'c.png'])
    (flat / 'empty').mkdir()  # an empty stray folder: still a flat folder
    write_images(flat / 'thumbs', ['t1.jpg', 't2.jpg'])
    write_images(flat / '.ipynb_checkpoints', ['a-checkpoint.jpg'])
    write_images(flat, ['._a.jpg'])  # a hidden (macOS metadata) file
    paths, labels, classes = scan_image_folder(str(flat))
    names = [os.path.relpath(p, flat) for p in paths]
    assert names == [
        'a.jpg', 'b.jpg', 'c.png',
        os.path.join('thumbs', 't1.jpg'),
        os.path.join('thumbs', 't2.jpg')
    ]
    assert labels == [-1] * 5 and classes == []
    paths, _, _ = scan_image_folder(str(flat), recursive=False)
    assert len(paths) == 3
    assert len(InMemoryImageFolder(str(flat))) == 5


def test_class_folders_only_without_loose_images(tmp_path):
    root = tmp_path / 'labelled'
    write_images(root / 'cat', ['1.jpg'])
    write_images(root / 'dog' / 'deeper', ['2.jpg', '3.jpg'])
    (root / 'empty').mkdir()  # no images: no class
    write_images(root / '.ipynb_checkpoints', ['x.jpg'])
    write_images(root / 'cat' / '.ipynb_checkpoints', ['x.jpg'])
    paths, labels, classes = scan_image_folder(str(root))
    assert classes == ['cat', 'dog']
    assert labels == [0, 1, 1]
    assert all('.ipynb' not in p for p in paths)
    # only hidden folders hold images: there are none
    only_hidden = tmp_path / 'hidden'
    write_images(only_hidden / '.cache', ['x.jpg'])
    with pytest.raises(FileNotFoundError, match='hidden'):
        scan_image_folder(str(only_hidden))


def test_16_bit_grey_is_scaled_to_8_bits(tmp_path):
    grey = np.array([[0, 257, 32768, 65535]], np.uint16)
    Image.fromarray(grey).save(tmp_path / 'g16.png')
    with Image.open(tmp_path / 'g16.png') as img:
        assert img.mode in ('I;16', 'I')
    rgb = read_rgb(str(tmp_path / 'g16.png'))
    assert rgb.dtype == np.uint8 and rgb.shape == (1, 4, 3)
    assert rgb[0, :, 0].tolist() == [0, 1, 128, 255]
    assert (rgb[..., 0] == rgb[..., 2]).all()
    # 32-bit integer images ('I') too
    Image.fromarray(grey.astype(np.int32)).save(tmp_path / 'i32.tiff')
    with Image.open(tmp_path / 'i32.tiff') as img:
        assert img.mode == 'I'
    assert read_rgb(str(tmp_path /
                        'i32.tiff'))[0, :, 1].tolist() == [0, 1, 128, 255]


def test_palette_and_transparency(tmp_path):
    pal = Image.new('P', (3, 1))
    pal.putpalette([255, 0, 0, 0, 0, 255, 0, 255, 0])
    pal.putdata([0, 1, 2])
    pal.save(tmp_path / 'p.png')
    colours = [[255, 0, 0], [0, 0, 255], [0, 255, 0]]
    assert read_rgb(str(tmp_path / 'p.png'))[0].tolist() == colours
    # the transparent palette entry (red) shows as white, not red
    pal.save(tmp_path / 'pt.png', transparency=0)
    with Image.open(tmp_path / 'pt.png') as img:
        assert img.mode == 'P' and 'transparency' in img.info
    assert read_rgb(str(
        tmp_path / 'pt.png'))[0].tolist() == [[255, 255, 255]] + colours[1:]
    rgba = np.array([[[10, 20, 30, 0], [10, 20, 30, 255]]], np.uint8)
    Image.fromarray(rgba).save(tmp_path / 'a.png')
    assert read_rgb(str(tmp_path / 'a.png'))[0].tolist() == [[255, 255, 255],
                                                             [10, 20, 30]]


def test_truncated_image_names_the_file(tmp_path):
    write_images(tmp_path / 't', ['whole.jpg'], size=(64, 64))
    data = (tmp_path / 't' / 'whole.jpg').read_bytes()
    (tmp_path / 't' / 'cut.jpg').write_bytes(data[:len(data) // 2])
    with pytest.raises(OSError, match='cut.jpg'):
        InMemoryImageFolder(str(tmp_path / 't'))


class _Records(logging.Handler):

    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_skip_bad_images_counts_them_in_the_log(tmp_path):
    write_images(tmp_path / 's', ['0.png', '2.png', '4.png'])
    (tmp_path / 's' / '1.png').write_bytes(b'not an image')
    (tmp_path / 's' / '3.jpg').write_bytes(b'')
    logger = MMLogger.get_current_instance()
    records = _Records()
    logger.addHandler(records)
    try:
        ds = InMemoryImageFolder(str(tmp_path / 's'), skip_bad_images=True)
        disk = ImageFolderDataset(
            str(tmp_path / 's'),
            pipeline=[dict(type='LoadImageRGB'),
                      dict(type='PackJEPAInputs')],
            skip_bad_images=True)
        item = disk[1]  # 1.png is bad: the next readable image, 2.png
    finally:
        logger.removeHandler(records)
    names = [os.path.basename(p) for p in ds.paths]
    assert names == ['0.png', '2.png', '4.png']
    assert ds.images.shape[0] == 3
    assert (ds.images[1] == 10).all()  # 2.png, the second colour
    assert any('skipped 2 of 5 images' in m for m in records.messages)
    assert (item['inputs'] == 10).all()
    assert [os.path.basename(p) for p in disk.bad_paths] == ['1.png']
    assert any('skipped 1 of 5 images' in m for m in records.messages)
    # without the flag the first bad file stops, naming it
    with pytest.raises(OSError, match='1.png'):
        InMemoryImageFolder(str(tmp_path / 's'))
    for name in ('0.png', '2.png', '4.png'):
        (tmp_path / 's' / name).write_bytes(b'')
    with pytest.raises(OSError, match='none of the 5 images'):
        InMemoryImageFolder(str(tmp_path / 's'), skip_bad_images=True)


@pytest.mark.parametrize('side', [12, 15])
def test_decompression_bomb_names_the_file(tmp_path, monkeypatch, side):
    # with a limit of 100 pixels, PIL warns at 12 x 12 and refuses 15 x 15
    write_images(tmp_path / 'b', ['big.png'], size=(side, side))
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', 100)
    with pytest.raises(OSError, match=r'big\.png.*too large'):
        read_rgb(str(tmp_path / 'b' / 'big.png'))
    with pytest.raises(OSError, match='big.png'):
        InMemoryImageFolder(str(tmp_path / 'b'))
