"""ImageFolder datasets: a folder of images, with or without class folders.

``root/<class>/**/*.jpg`` gives labelled images; a folder with images
directly in it gives unlabelled ones (label -1), together with those of its
sub-folders. Hidden files and folders (``.ipynb_checkpoints/``) are skipped.
"""
import logging
import os
import os.path as osp
import warnings
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.dataset import Compose
from mmengine.logging import print_log
from PIL import Image
from torch.utils.data import Dataset

from hjepa.registry import DATASETS

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')


def _is_image(name: str, exts: Tuple[str, ...]) -> bool:
    return not name.startswith('.') and name.lower().endswith(exts)


def _list_images(folder: str, exts: Tuple[str, ...],
                 recursive: bool) -> List[str]:
    """Image files in ``folder`` (and its sub-folders when ``recursive``),
    in sorted order, hidden files and folders skipped."""
    paths = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith('.'))
        paths += [
            osp.join(root, f) for f in sorted(files) if _is_image(f, exts)
        ]
        if not recursive:
            break
    return paths


def scan_image_folder(
        folder: str,
        extensions: Sequence[str] = IMG_EXTENSIONS,
        recursive: bool = True) -> Tuple[List[str], List[int], List[str]]:
    """List the images under ``folder``.

    ``folder`` holds class folders when it has no images of its own and
    sub-folders that do: each image (at any depth) is labelled by its
    class's index in sorted order, and sub-folders without images are no
    class. Otherwise every image is labelled -1: those directly in
    ``folder`` and, when ``recursive``, those in its sub-folders, so a stray
    sub-folder never hides the loose images. Hidden files and folders (names
    starting with ``.``) are skipped.

    Returns:
        Image paths, labels and class names, sorted.
    """
    if not osp.isdir(folder):
        raise FileNotFoundError(f'image folder {folder!r} does not exist')
    exts = tuple(e.lower() for e in extensions)
    loose = _list_images(folder, exts, recursive=False)
    per_class = {}
    if not loose:
        with os.scandir(folder) as entries:
            subfolders = sorted(e.name for e in entries
                                if e.is_dir() and not e.name.startswith('.'))
        for name in subfolders:
            images = _list_images(osp.join(folder, name), exts, recursive=True)
            if images:
                per_class[name] = images
    classes = sorted(per_class)
    paths, labels = [], []
    if classes:
        for label, name in enumerate(classes):
            paths += per_class[name]
            labels += [label] * len(per_class[name])
    else:
        paths = _list_images(folder, exts, recursive)
        labels = [-1] * len(paths)
    if not paths:
        raise FileNotFoundError(
            f'no images with extensions {exts} found under {folder!r} '
            '(hidden files and folders are skipped)')
    return paths, labels, classes


def to_rgb(img: Image.Image) -> np.ndarray:
    """RGB uint8 [H, W, 3] of a decoded PIL image of any mode."""
    if img.mode == 'I' or img.mode.startswith('I;16'):
        # 16-bit grey ('I' is taken as 16-bit too): 65535 -> 255
        grey = np.asarray(img).astype(np.float32) / 257
        grey = np.clip(np.rint(grey), 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    if img.mode in ('RGBA', 'LA', 'PA', 'RGBa', 'La') or \
            'transparency' in img.info:
        # transparent pixels show the background they would on a page
        rgba = img.convert('RGBA')
        white = Image.new('RGBA', rgba.size, (255, 255, 255, 255))
        return np.array(Image.alpha_composite(white, rgba).convert('RGB'))
    return np.array(img.convert('RGB'))  # writable, unlike asarray's


def read_rgb(path: str) -> np.ndarray:
    """Decode an image file to an RGB uint8 array [H, W, 3].

    16-bit images are scaled to 8 bits; transparent pixels (alpha, or a
    palette's transparent colour) become white.

    Raises:
        OSError: naming the file, if it is missing, truncated, corrupt or
            larger than PIL's decompression-bomb limit
            (``PIL.Image.MAX_IMAGE_PIXELS``).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('error', Image.DecompressionBombWarning)
            with Image.open(path) as img:
                return to_rgb(img)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise OSError(
            f'image {path!r} is too large to decode safely: {e} If the file '
            'is trusted, raise PIL.Image.MAX_IMAGE_PIXELS, or shrink it'
        ) from e
    except (OSError, ValueError, SyntaxError) as e:
        raise OSError(f'cannot read image {path!r}: {e}') from e


def cover_crop_box(h: int, w: int,
                   size: Tuple[int, int]) -> Tuple[int, int, int, int]:
    """Where an ``h x w`` image goes to cover ``size`` (H', W') and have its
    centre cropped: the shorter side (relative to ``size``) fits exactly.

    Returns:
        The resized height and width, and the crop's top and left.
    """
    out_h, out_w = size
    scale = max(out_h / h, out_w / w)
    new_h, new_w = max(out_h, round(h * scale)), max(out_w, round(w * scale))
    return new_h, new_w, (new_h - out_h) // 2, (new_w - out_w) // 2


def resize_center_crop(img: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """Scale ``img`` [H, W, 3] (bicubic) to cover ``size`` (H', W') and crop
    its centre (:func:`cover_crop_box`)."""
    h, w = img.shape[:2]
    out_h, out_w = size
    if (h, w) == (out_h, out_w):
        return img
    new_h, new_w, top, left = cover_crop_box(h, w, size)
    resized = np.asarray(
        Image.fromarray(img).resize((new_w, new_h), Image.BICUBIC))
    return resized[top:top + out_h, left:left + out_w]


class _ImageFolderBase(Dataset):

    def __init__(self,
                 data_root: str,
                 data_prefix: str = '',
                 with_label: bool = True,
                 extensions: Sequence[str] = IMG_EXTENSIONS,
                 max_samples: Optional[int] = None,
                 recursive: bool = True) -> None:
        self.folder = osp.join(data_root, data_prefix)
        paths, labels, classes = scan_image_folder(self.folder, extensions,
                                                   recursive)
        if max_samples is not None:
            if not 0 < max_samples <= len(paths):
                raise ValueError(f'max_samples {max_samples} must be in '
                                 f'[1, {len(paths)}] for {self.folder!r}')
            # An evenly spread subset keeps every class.
            keep = np.linspace(0, len(paths) - 1, max_samples).astype(int)
            paths = [paths[i] for i in keep]
            labels = [labels[i] for i in keep]
        self.paths = paths
        self.labels = torch.tensor(labels if with_label else [-1] *
                                   len(labels))
        self.metainfo = dict(classes=tuple(classes))

    def __len__(self) -> int:
        return len(self.paths)

    def _log_skipped(self, bad: List[str], total: int) -> None:
        print_log(
            f'skip_bad_images: skipped {len(bad)} of {total} images under '
            f'{self.folder!r} that cannot be read, e.g. {bad[:3]}',
            logger='current',
            level=logging.WARNING)


@DATASETS.register_module()
class ImageFolderDataset(_ImageFolderBase):
    """Reads images from disk per sample and applies ``pipeline``.

    For large sets (ImageNet) and images of any size (the pipeline crops).
    Each item starts as ``dict(img_path=..., gt_label=...)``.

    Args:
        data_root: Dataset root.
        data_prefix: Sub-folder of the split, e.g. ``'train'``.
        pipeline: Transforms (configs or callables).
        with_label: Keep class labels (pretraining does not need them).
        extensions: Image file endings.
        max_samples: Use an evenly spread subset of this size.
        recursive: Also use the images in sub-folders of a folder without
            class folders (see :func:`scan_image_folder`).
        skip_bad_images: An image that cannot be read is replaced by the
            next readable one and logged with the count so far (per loader
            worker), instead of stopping the run.
    """

    def __init__(self,
                 data_root: str,
                 data_prefix: str = '',
                 pipeline: Sequence = (),
                 with_label: bool = True,
                 extensions: Sequence[str] = IMG_EXTENSIONS,
                 max_samples: Optional[int] = None,
                 recursive: bool = True,
                 skip_bad_images: bool = False) -> None:
        super().__init__(data_root, data_prefix, with_label, extensions,
                         max_samples, recursive)
        self.pipeline = Compose(list(pipeline))
        self.skip_bad_images = skip_bad_images
        self.bad_paths: List[str] = []

    def __getitem__(self, index: int) -> dict:
        for i in range(len(self)):
            k = (index + i) % len(self)
            try:
                return self.pipeline(
                    dict(img_path=self.paths[k], gt_label=int(self.labels[k])))
            except OSError:
                if not self.skip_bad_images:
                    raise
                if self.paths[k] not in self.bad_paths:
                    self.bad_paths.append(self.paths[k])
                    self._log_skipped(self.bad_paths, len(self))
        raise OSError(f'none of the {len(self)} images under '
                      f'{self.folder!r} can be read')


@DATASETS.register_module()
class InMemoryImageFolder(_ImageFolderBase):
    """Decodes every image once and keeps the set as one uint8 tensor.

    For small sets (CIFAR-10: 150 MB for 50k): items are
    ``dict(inputs=uint8 [3, H, W], data_samples=label)``, so loading costs
    an index, and augmentation happens per batch in
    :class:`HJEPADataPreprocessor`. Images of another size than
    ``img_size`` (default: the first image's) are resized on load so that
    they cover it, and their centre is kept (:func:`resize_center_crop`).

    Args:
        data_root: Dataset root.
        data_prefix: Sub-folder of the split, e.g. ``'train'``.
        with_label: Keep class labels.
        extensions: Image file endings.
        max_samples: Use an evenly spread subset of this size.
        recursive: Also use the images in sub-folders of a folder without
            class folders (see :func:`scan_image_folder`).
        img_size: Side, or (height, width), every image is brought to;
            None for the size of the first image.
        skip_bad_images: Leave out the images that cannot be read (logging
            how many) instead of failing on the first.
    """

    def __init__(self,
                 data_root: str,
                 data_prefix: str = '',
                 with_label: bool = True,
                 extensions: Sequence[str] = IMG_EXTENSIONS,
                 max_samples: Optional[int] = None,
                 recursive: bool = True,
                 img_size: Union[int, Tuple[int, int], None] = None,
                 skip_bad_images: bool = False) -> None:
        super().__init__(data_root, data_prefix, with_label, extensions,
                         max_samples, recursive)
        size = (img_size, img_size) if isinstance(img_size, int) else img_size
        if size is not None and (len(size) != 2 or min(size) < 1):
            raise ValueError(f'img_size {img_size} must be a positive int '
                             'or (height, width)')
        images, keep, bad = None, [], []
        for i, path in enumerate(self.paths):
            try:
                img = read_rgb(path)
            except OSError:
                if not skip_bad_images:
                    raise
                bad.append(path)
                continue
            if images is None:
                size = tuple(size or img.shape[:2])
                images = np.empty((len(self.paths), ) + size + (3, ), np.uint8)
            images[len(keep)] = resize_center_crop(img, size)
            keep.append(i)
        if bad:
            self._log_skipped(bad, len(self.paths))
        if not keep:
            raise OSError(f'none of the {len(self.paths)} images under '
                          f'{self.folder!r} can be read, e.g. {bad[:3]}')
        self.paths = [self.paths[i] for i in keep]
        self.labels = self.labels[keep]
        self.images = torch.from_numpy(images[:len(keep)]).permute(
            0, 3, 1, 2).contiguous()

    def __getitem__(self, index: int) -> dict:
        return dict(inputs=self.images[index], data_samples=self.labels[index])
