"""The CIFAR composite detection and segmentation set."""
import filecmp
import json
import os
import os.path as osp

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils

from hjepa.datasets import CIFAR10_CLASSES, make_cifar_composite
from hjepa.datasets.cifar_composite import ellipse_mask


@pytest.fixture(scope='module')
def composite(cifar_root, tmp_path_factory):
    root = str(tmp_path_factory.mktemp('composite'))
    meta = make_cifar_composite(cifar_root, root, num_train=6, num_val=3)
    return root, meta


def _files(root):
    return sorted(
        osp.relpath(osp.join(d, f), root) for d, _, fs in os.walk(root)
        for f in fs)


def test_layout_and_counts(composite):
    root, meta = composite
    for split, n in (('train', 6), ('val', 3)):
        for folder in ('img_dir', 'ann_dir'):
            assert sorted(os.listdir(osp.join(
                root, folder, split))) == [f'{i:06d}.png' for i in range(n)]
        with open(osp.join(root, 'annotations',
                           f'instances_{split}.json')) as f:
            coco = json.load(f)
        assert len(coco['images']) == n
        assert len(coco['annotations']) == meta['objects'][split] >= n
    assert [c['name'] for c in coco['categories']] == list(CIFAR10_CLASSES)
    assert [c['id'] for c in coco['categories']] == list(range(1, 11))


def test_label_maps_boxes_and_masks_agree(composite):
    root, _ = composite
    with open(osp.join(root, 'annotations', 'instances_train.json')) as f:
        coco = json.load(f)
    for image in coco['images']:
        label_map = np.asarray(
            Image.open(osp.join(root, 'ann_dir', 'train', image['file_name'])))
        canvas = np.asarray(
            Image.open(osp.join(root, 'img_dir', 'train', image['file_name'])))
        assert canvas.shape == (64, 64, 3) and label_map.shape == (64, 64)
        painted = np.zeros_like(label_map)
        for ann in coco['annotations']:
            if ann['image_id'] != image['id']:
                continue
            mask = mask_utils.decode(ann['segmentation']).astype(bool)
            assert not (painted[mask]).any(), 'objects overlap'
            painted[mask] = ann['category_id']
            x, y, w, h = ann['bbox']
            ys, xs = np.nonzero(mask)
            assert (xs.min(), ys.min(), xs.max() + 1,
                    ys.max() + 1) == (x, y, x + w, y + h)
            assert 23 <= w <= 40 and 23 <= h <= 40
            assert ann['area'] == mask.sum() < 0.85 * w * h  # an ellipse
        np.testing.assert_array_equal(painted, label_map)


def test_same_seed_same_files_other_seed_other_files(cifar_root, tmp_path,
                                                     composite):
    root, _ = composite
    again = str(tmp_path / 'again')
    make_cifar_composite(cifar_root, again, num_train=6, num_val=3)
    files = _files(root)
    assert files == _files(again)
    _, mismatch, errors = filecmp.cmpfiles(root, again, files, shallow=False)
    assert not mismatch and not errors

    other = str(tmp_path / 'other')
    make_cifar_composite(cifar_root, other, num_train=6, num_val=3, seed=1)
    _, mismatch, _ = filecmp.cmpfiles(root, other, files, shallow=False)
    assert mismatch


def test_equal_arguments_write_nothing(cifar_root, tmp_path):
    root = str(tmp_path / 'set')
    make_cifar_composite(cifar_root, root, num_train=2, num_val=1)
    stamp = os.stat(osp.join(root, 'img_dir', 'train', '000000.png'))
    make_cifar_composite(cifar_root, root, num_train=2, num_val=1)
    assert os.stat(osp.join(root, 'img_dir', 'train',
                            '000000.png')).st_mtime_ns == stamp.st_mtime_ns
    make_cifar_composite(cifar_root, root, num_train=1, num_val=1)
    assert os.listdir(osp.join(root, 'img_dir', 'train')) == ['000000.png']


def test_ellipse_mask_is_inscribed():
    mask = ellipse_mask(4, 6)
    assert mask.shape == (4, 6)
    assert mask[1:3].all(axis=1).any() and not mask[0, 0] and not mask[3, 5]
    np.testing.assert_array_equal(mask, mask[::-1, ::-1])


@pytest.mark.parametrize('kwargs, match', [
    (dict(object_size=(30, 20)), 'object_size'),
    (dict(object_size=(24, 80)), 'object_size'),
    (dict(max_objects=0), 'max_objects'),
])
def test_rejects_bad_arguments(cifar_root, tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_cifar_composite(cifar_root, str(tmp_path), **kwargs)


def test_interrupted_rerun_is_redone(cifar_root, tmp_path, monkeypatch):
    """A run stopped part-way leaves no meta.json claiming a finished set."""
    from hjepa.datasets import cifar_composite
    root = str(tmp_path / 'set')
    make_cifar_composite(cifar_root, root, num_train=2, num_val=1)

    write_split = cifar_composite._write_split

    def train_then_fail(out_dir, split, *args, **kwargs):
        if split == 'val':
            raise KeyboardInterrupt
        return write_split(out_dir, split, *args, **kwargs)

    monkeypatch.setattr(cifar_composite, '_write_split', train_then_fail)
    with pytest.raises(KeyboardInterrupt):
        make_cifar_composite(cifar_root, root, num_train=1, num_val=1)
    assert not osp.exists(osp.join(root, 'meta.json'))
    monkeypatch.undo()

    make_cifar_composite(cifar_root, root, num_train=2, num_val=1)
    fresh = str(tmp_path / 'fresh')
    make_cifar_composite(cifar_root, fresh, num_train=2, num_val=1)
    files = _files(fresh)
    assert _files(root) == files
    _, mismatch, errors = filecmp.cmpfiles(root, fresh, files, shallow=False)
    assert not mismatch and not errors


def test_missing_files_are_rewritten(cifar_root, tmp_path):
    root = str(tmp_path / 'set')
    make_cifar_composite(cifar_root, root, num_train=2, num_val=1)
    os.remove(osp.join(root, 'ann_dir', 'train', '000001.png'))
    make_cifar_composite(cifar_root, root, num_train=2, num_val=1)
    assert sorted(os.listdir(osp.join(
        root, 'ann_dir', 'train'))) == ['000000.png', '000001.png']


def test_configs_classes_match_the_exports():
    from mmengine.config import Config

    from hjepa.datasets import SEG_CLASSES
    base = osp.join(
        osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
        'configs', 'benchmarks', '_base_', 'datasets')
    instance = Config.fromfile(osp.join(base, 'cifar-composite_instance.py'))
    semantic = Config.fromfile(osp.join(base, 'cifar-composite_semantic.py'))
    assert tuple(instance.classes) == CIFAR10_CLASSES
    assert tuple(semantic.metainfo.classes) == SEG_CLASSES
