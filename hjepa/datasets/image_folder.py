"""ImageFolder datasets: ``root/<class>/*.{jpg,png}``, labels optional."""
import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.dataset import Compose
from PIL import Image
from torch.utils.data import Dataset

from hjepa.registry import DATASETS

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')


def scan_image_folder(
    folder: str,
    extensions: Sequence[str] = IMG_EXTENSIONS
) -> Tuple[List[str], List[int], List[str]]:
    """List the images under ``folder``.

    With class sub-folders (``folder/<class>/...``) each image is labelled
    by its class's index in sorted order; with images directly in
    ``folder`` every label is -1.

    Returns:
        Image paths, labels and class names, sorted.
    """
    if not osp.isdir(folder):
        raise FileNotFoundError(f'image folder {folder!r} does not exist')
    exts = tuple(e.lower() for e in extensions)
    classes = sorted(e.name for e in os.scandir(folder) if e.is_dir())
    paths, labels = [], []
    if classes:
        for label, name in enumerate(classes):
            for root, _, files in sorted(os.walk(osp.join(folder, name))):
                for f in sorted(files):
                    if f.lower().endswith(exts):
                        paths.append(osp.join(root, f))
                        labels.append(label)
    else:
        for f in sorted(os.listdir(folder)):
            if f.lower().endswith(exts):
                paths.append(osp.join(folder, f))
                labels.append(-1)
    if not paths:
        raise FileNotFoundError(
            f'no images with extensions {exts} found under {folder!r}')
    return paths, labels, classes


def read_rgb(path: str) -> np.ndarray:
    """Decode an image file to an RGB uint8 array [H, W, 3].

    Raises:
        OSError: naming the file, if it is missing, truncated or corrupt.
    """
    try:
        with Image.open(path) as img:
            return np.asarray(img.convert('RGB'))
    except (OSError, ValueError, SyntaxError) as e:
        raise OSError(f'cannot read image {path!r}: {e}') from e


class _ImageFolderBase(Dataset):

    def __init__(self,
                 data_root: str,
                 data_prefix: str = '',
                 with_label: bool = True,
                 extensions: Sequence[str] = IMG_EXTENSIONS,
                 max_samples: Optional[int] = None) -> None:
        self.folder = osp.join(data_root, data_prefix)
        paths, labels, classes = scan_image_folder(self.folder, extensions)
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


@DATASETS.register_module()
class ImageFolderDataset(_ImageFolderBase):
    """Reads images from disk per sample and applies ``pipeline``.

    For large sets (ImageNet). Each item starts as
    ``dict(img_path=..., gt_label=...)``.

    Args:
        data_root: Dataset root.
        data_prefix: Sub-folder of the split, e.g. ``'train'``.
        pipeline: Transforms (configs or callables).
        with_label: Keep class labels (pretraining does not need them).
        extensions: Image file endings.
        max_samples: Use an evenly spread subset of this size.
    """

    def __init__(self,
                 data_root: str,
                 data_prefix: str = '',
                 pipeline: Sequence = (),
                 with_label: bool = True,
                 extensions: Sequence[str] = IMG_EXTENSIONS,
                 max_samples: Optional[int] = None) -> None:
        super().__init__(data_root, data_prefix, with_label, extensions,
                         max_samples)
        self.pipeline = Compose(list(pipeline))

    def __getitem__(self, index: int) -> dict:
        return self.pipeline(
            dict(img_path=self.paths[index], gt_label=int(self.labels[index])))


@DATASETS.register_module()
class InMemoryImageFolder(_ImageFolderBase):
    """Decodes every image once and keeps the set as one uint8 tensor.

    For small sets of same-sized images (CIFAR-10: 150 MB for 50k): items
    are ``dict(inputs=uint8 [3, H, W], data_samples=label)``, so loading
    costs an index, and augmentation happens per batch in
    :class:`HJEPADataPreprocessor`.

    Args:
        data_root: Dataset root.
        data_prefix: Sub-folder of the split, e.g. ``'train'``.
        with_label: Keep class labels.
        extensions: Image file endings.
        max_samples: Use an evenly spread subset of this size.
    """

    def __init__(self,
                 data_root: str,
                 data_prefix: str = '',
                 with_label: bool = True,
                 extensions: Sequence[str] = IMG_EXTENSIONS,
                 max_samples: Optional[int] = None) -> None:
        super().__init__(data_root, data_prefix, with_label, extensions,
                         max_samples)
        first = read_rgb(self.paths[0])
        images = np.empty((len(self.paths), ) + first.shape, dtype=np.uint8)
        for i, path in enumerate(self.paths):
            img = read_rgb(path) if i else first
            if img.shape != first.shape:
                raise ValueError(
                    f'InMemoryImageFolder needs images of one size: '
                    f'{path!r} is {img.shape[:2]}, {self.paths[0]!r} is '
                    f'{first.shape[:2]}; use ImageFolderDataset instead')
            images[i] = img
        self.images = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()

    def __getitem__(self, index: int) -> dict:
        return dict(inputs=self.images[index], data_samples=self.labels[index])
