"""A detection and segmentation set made of real CIFAR-10 photos.

There is no COCO or ADE20K on a CPU-only machine, so this composes CIFAR-10
photos onto larger canvases: each pasted photo is an object whose box,
class and mask are known exactly. Objects stay at the scale the encoder was
pretrained on (32 px photos, resized to 24-40 px), and the canvas is a few
objects wide (64 px by default), so a patch-4 ViT sees a 16 x 16 grid.

* **Objects**: a photo of the split, resized (aspect 3/4 to 4/3) and
  randomly flipped, shows through an ellipse inscribed in its rectangle.
  The ellipse, not the rectangle, is the mask: segmentation and the mask
  head must find a curved boundary, not copy the box. Objects never
  overlap, so every mask is whole and every box tight.
* **Background**: another photo of the same split, up-sampled to the canvas
  and blurred (Gaussian, sigma = canvas / 16 px): real colours and
  gradients, but no recognisable object. It is labelled background even
  though it comes from a photo of some class.

One seeded generator per split makes the output deterministic. The
training canvases use only the CIFAR-10 training photos and the validation
canvases only the test photos. Written under ``out_dir``::

    img_dir/{train,val}/000000.png       RGB canvases
    ann_dir/{train,val}/000000.png       class per pixel: 0 background,
                                         1 + CIFAR-10 class index
    annotations/instances_{train,val}.json   COCO instances (RLE masks,
                                         category id = 1 + class index)
    meta.json                            the arguments; equal ones skip work
"""
import json
import os
import os.path as osp
import shutil
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from PIL import Image

from .cifar import CIFAR10_CLASSES
from .image_folder import read_rgb, scan_image_folder

#: Classes of the segmentation label maps (index = pixel value).
SEG_CLASSES = ('background', ) + CIFAR10_CLASSES
SPLITS = (('train', 'train'), ('val', 'test'))  # (composite, CIFAR-10)


def ellipse_mask(height: int, width: int) -> np.ndarray:
    """Boolean [height, width] mask of the ellipse inscribed in the box."""
    y = (np.arange(height) + 0.5 - height / 2) / (height / 2)
    x = (np.arange(width) + 0.5 - width / 2) / (width / 2)
    return y[:, None]**2 + x[None, :]**2 <= 1.0


def _place(
    rng: np.random.Generator, canvas_size: int, size: Tuple[int, int],
    taken: List[Tuple[int, int, int,
                      int]]) -> Optional[Tuple[int, int, int, int]]:
    """A free (x0, y0, x1, y1) box of ``size`` (h, w), or None."""
    h, w = size
    for _ in range(50):
        y0 = int(rng.integers(0, canvas_size - h + 1))
        x0 = int(rng.integers(0, canvas_size - w + 1))
        box = (x0, y0, x0 + w, y0 + h)
        if all(box[2] <= t[0] or t[2] <= box[0] or box[3] <= t[1]
               or t[3] <= box[1] for t in taken):
            return box
    return None


def compose_canvas(
        rng: np.random.Generator,
        photos: Sequence[str],
        labels: Sequence[int],
        canvas_size: int = 64,
        object_size: Tuple[int, int] = (24, 40),
        max_objects: int = 3) -> Tuple[np.ndarray, np.ndarray, list]:
    """One canvas.

    Args:
        rng: Source of every random choice.
        photos: Paths of the photos to draw from.
        labels: Their class indices.
        canvas_size: Side of the square canvas in pixels.
        object_size: Smallest and largest side of a pasted photo.
        max_objects: Objects tried per canvas (1 to this many; fewer when
            they do not fit without overlapping).

    Returns:
        The RGB canvas [S, S, 3] uint8, its label map [S, S] uint8 (0
        background, 1 + class) and the objects, each a dict with ``label``,
        ``box`` (x0, y0, x1, y1) and ``mask`` (bool [S, S]).
    """
    lo, hi = object_size
    background = read_rgb(photos[int(rng.integers(len(photos)))])
    if rng.random() < 0.5:
        background = background[:, ::-1]
    canvas = cv2.resize(
        background, (canvas_size, canvas_size), interpolation=cv2.INTER_LINEAR)
    canvas = cv2.GaussianBlur(canvas, (0, 0), sigmaX=canvas_size / 16)
    label_map = np.zeros((canvas_size, canvas_size), np.uint8)

    objects, taken = [], []
    for _ in range(int(rng.integers(1, max_objects + 1))):
        side = rng.uniform(lo, hi)
        aspect = np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3)))
        h = int(np.clip(round(side / np.sqrt(aspect)), lo, hi))
        w = int(np.clip(round(side * np.sqrt(aspect)), lo, hi))
        box = _place(rng, canvas_size, (h, w), taken)
        index = int(rng.integers(len(photos)))
        flip = rng.random() < 0.5
        if box is None:
            continue
        photo = read_rgb(photos[index])
        if flip:
            photo = photo[:, ::-1]
        photo = cv2.resize(photo, (w, h), interpolation=cv2.INTER_LINEAR)
        x0, y0, x1, y1 = box
        inside = ellipse_mask(h, w)
        canvas[y0:y1, x0:x1][inside] = photo[inside]
        label_map[y0:y1, x0:x1][inside] = labels[index] + 1
        mask = np.zeros((canvas_size, canvas_size), bool)
        mask[y0:y1, x0:x1] = inside
        taken.append(box)
        objects.append(dict(label=int(labels[index]), box=box, mask=mask))
    return canvas, label_map, objects


def _coco_annotation(obj: dict, image_id: int, ann_id: int) -> dict:
    from pycocotools import mask as mask_utils
    rle = mask_utils.encode(np.asfortranarray(obj['mask'].astype(np.uint8)))
    ys, xs = np.nonzero(obj['mask'])
    x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
    return dict(
        id=ann_id,
        image_id=image_id,
        category_id=obj['label'] + 1,
        bbox=[float(x0), float(y0),
              float(x1 - x0),
              float(y1 - y0)],
        area=float(obj['mask'].sum()),
        segmentation=dict(
            size=list(rle['size']), counts=rle['counts'].decode('ascii')),
        iscrowd=0)


def _write_split(out_dir: str, split: str, photos: Sequence[str],
                 labels: Sequence[int], num_images: int,
                 rng: np.random.Generator, **canvas_kwargs) -> int:
    img_dir = osp.join(out_dir, 'img_dir', split)
    ann_dir = osp.join(out_dir, 'ann_dir', split)
    for folder in (img_dir, ann_dir):  # no stale files of another run
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
    images, annotations = [], []
    for i in range(num_images):
        canvas, label_map, objects = compose_canvas(rng, photos, labels,
                                                    **canvas_kwargs)
        name = f'{i:06d}.png'
        Image.fromarray(canvas).save(osp.join(img_dir, name))
        Image.fromarray(label_map).save(osp.join(ann_dir, name))
        images.append(
            dict(
                id=i,
                file_name=name,
                height=canvas.shape[0],
                width=canvas.shape[1]))
        for obj in objects:
            annotations.append(_coco_annotation(obj, i, len(annotations) + 1))
    coco = dict(
        images=images,
        annotations=annotations,
        categories=[
            dict(id=k + 1, name=name) for k, name in enumerate(CIFAR10_CLASSES)
        ])
    os.makedirs(osp.join(out_dir, 'annotations'), exist_ok=True)
    with open(
            osp.join(out_dir, 'annotations', f'instances_{split}.json'),
            'w') as f:
        json.dump(coco, f)
    return len(annotations)


def _complete(out_dir: str, counts: Dict[str, int]) -> bool:
    """Whether every split has its annotation file and ``counts`` images."""
    names = [f'{i:06d}.png' for i in range(max(counts.values()))]
    for split, n in counts.items():
        if not osp.isfile(
                osp.join(out_dir, 'annotations', f'instances_{split}.json')):
            return False
        for folder in ('img_dir', 'ann_dir'):
            folder = osp.join(out_dir, folder, split)
            if not osp.isdir(folder) or sorted(
                    os.listdir(folder)) != names[:n]:
                return False
    return True


def make_cifar_composite(cifar_root: str,
                         out_dir: str,
                         num_train: int = 8000,
                         num_val: int = 1000,
                         canvas_size: int = 64,
                         object_size: Tuple[int, int] = (24, 40),
                         max_objects: int = 3,
                         seed: int = 0) -> Dict:
    """Write the composite set (see the module docstring) under ``out_dir``.

    Args:
        cifar_root: CIFAR-10 as ``{train,test}/<class>/*.jpg``
            (:func:`hjepa.datasets.prepare_cifar10` makes it).
        out_dir: Where the set goes.
        num_train: Training canvases, from the CIFAR-10 training photos.
        num_val: Validation canvases, from the CIFAR-10 test photos.
        canvas_size: Side of a canvas in pixels.
        object_size: Smallest and largest side of a pasted photo.
        max_objects: At most this many objects per canvas.
        seed: Seed of the generators (one per split).

    Returns:
        The arguments and the number of objects per split, also written to
        ``out_dir/meta.json``, last. When that file already holds the same
        arguments and every file is there, nothing is rewritten.
    """
    lo, hi = object_size
    if not 0 < lo <= hi <= canvas_size:
        raise ValueError(f'object_size {tuple(object_size)} must be '
                         f'(lo, hi) with 0 < lo <= hi <= canvas_size '
                         f'{canvas_size}')
    if max_objects < 1 or num_train < 1 or num_val < 1:
        raise ValueError(
            f'max_objects {max_objects}, num_train {num_train} and num_val '
            f'{num_val} must all be >= 1')
    args = dict(
        num_train=num_train,
        num_val=num_val,
        canvas_size=canvas_size,
        object_size=[lo, hi],
        max_objects=max_objects,
        seed=seed)
    meta_path = osp.join(out_dir, 'meta.json')
    counts = dict(train=num_train, val=num_val)
    if osp.isfile(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
        if meta.get('args') == args and _complete(out_dir, counts):
            return meta
        # meta.json vouches for the files: gone before any of them change,
        # so an interrupted run leaves no stale claim of a finished set
        os.remove(meta_path)

    meta = dict(args=args, classes=list(CIFAR10_CLASSES), objects={})
    for k, (split, cifar_split) in enumerate(SPLITS):
        photos, labels, classes = scan_image_folder(
            osp.join(cifar_root, cifar_split))
        if tuple(classes) != CIFAR10_CLASSES:
            raise ValueError(f'{osp.join(cifar_root, cifar_split)} holds '
                             f'classes {classes}, expected {CIFAR10_CLASSES}')
        rng = np.random.default_rng([seed, k])
        meta['objects'][split] = _write_split(
            out_dir,
            split,
            photos,
            labels,
            counts[split],
            rng,
            canvas_size=canvas_size,
            object_size=(lo, hi),
            max_objects=max_objects)
    with open(meta_path + '.tmp', 'w') as f:
        json.dump(meta, f, indent=2)
    os.replace(meta_path + '.tmp', meta_path)
    return meta
