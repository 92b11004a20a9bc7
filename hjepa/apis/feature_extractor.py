"""Embeddings of your own images: paths, a folder, PIL images, arrays."""
import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from hjepa.datasets.image_folder import (cover_crop_box, read_rgb,
                                         scan_image_folder, to_rgb)
from hjepa.evaluation.features import POOLINGS, Features, extract_features
from hjepa.utils.dist import unwrap_model

ImageLike = Union[str, os.PathLike, Image.Image, np.ndarray, torch.Tensor]


def _split(images) -> list:
    """One item per image: paths, PIL images, [H, W, C] arrays or
    [C, H, W] tensors."""
    if isinstance(images, (str, os.PathLike)):
        path = os.fspath(images)
        if osp.isdir(path):
            return scan_image_folder(path)[0]
        if not osp.exists(path):
            raise FileNotFoundError(f'image {path} does not exist')
        return [path]
    if isinstance(images, np.ndarray):
        if images.ndim == 4:  # [N, H, W, C]
            return list(images)
        if images.ndim == 3 and images.shape[-1] not in (1, 3, 4):
            raise ValueError(f'array of shape {images.shape}: expected an '
                             'image [H, W], [H, W, C] with C in 1, 3, 4, or '
                             'a batch [N, H, W, C]')
        return [images]
    if isinstance(images, torch.Tensor):
        if images.ndim == 4:  # [N, C, H, W]
            return list(images)
        return [images]
    if isinstance(images, Image.Image):
        return [images]
    if isinstance(images, (list, tuple)):
        return [item for image in images for item in _split(image)]
    raise TypeError(f'cannot read images from a {type(images).__name__}; '
                    'expected paths, a folder, PIL images, numpy arrays or '
                    'tensors (or a list of them)')


def _scaled(x: torch.Tensor, what: str) -> torch.Tensor:
    """Float 0-255 values of a uint8 image, or of a float one in [0, 1]."""
    if x.dtype == torch.uint8:
        return x.float()
    if not x.is_floating_point():
        raise TypeError(f'{what} of dtype {x.dtype}: expected uint8 '
                        '(0-255) or float (0-1)')
    if x.numel() and (x.min() < 0 or x.max() > 1):
        raise ValueError(
            f'{what} is float with values in [{x.min():.3g}, {x.max():.3g}]; '
            'float images must be in [0, 1] (as torchvision ToTensor gives): '
            'pass uint8 for 0-255 values')
    return x.float() * 255


def to_chw(image: ImageLike) -> torch.Tensor:
    """One image as float RGB [3, H, W] on the 0-255 scale.

    Paths are decoded as :func:`~hjepa.datasets.image_folder.read_rgb`
    does; arrays are [H, W] or [H, W, C], tensors [C, H, W] (C in 1, 3,
    4; alpha is dropped), each uint8 (0-255) or float (0-1).
    """
    if isinstance(image, (str, os.PathLike)):
        image = read_rgb(os.fspath(image))
    elif isinstance(image, Image.Image):
        image = to_rgb(image)  # as a file of that image is read
    if isinstance(image, np.ndarray):
        if image.ndim == 2:
            image = image[..., None]
        x = torch.from_numpy(np.array(image)).permute(2, 0, 1)  # a copy
        what = f'array of shape {image.shape}'
    else:
        x = image.unsqueeze(0) if image.ndim == 2 else image
        what = f'tensor of shape {tuple(image.shape)}'
    if x.ndim != 3 or x.shape[0] not in (1, 3, 4):
        raise ValueError(f'{what}: expected 1, 3 or 4 channels '
                         '([H, W, C] arrays, [C, H, W] tensors)')
    x = _scaled(x.detach().cpu(), what)
    if x.shape[0] == 1:
        x = x.expand(3, -1, -1)
    return x[:3]  # [3, H, W]


def _resize_center_crop(x: torch.Tensor, size: Tuple[int,
                                                     int]) -> torch.Tensor:
    """Scale [C, H, W] to cover ``size`` (bilinear, antialiased) and crop
    its centre; an image of that size already is returned as it is."""
    h, w = x.shape[-2:]
    out_h, out_w = size
    if (h, w) == (out_h, out_w):
        return x
    new_h, new_w, top, left = cover_crop_box(h, w, size)
    x = F.interpolate(
        x[None], (new_h, new_w),
        mode='bilinear',
        align_corners=False,
        antialias=True)[0]
    return x[:, top:top + out_h, left:left + out_w]


class _Images(Dataset):
    """Images as the data preprocessor expects them: ``inputs`` [3, H, W]
    (0-255, at the model's size), ``data_samples`` the index."""

    def __init__(self, images: list, size: Tuple[int, int]) -> None:
        self.images, self.size = images, size

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> dict:
        x = _resize_center_crop(to_chw(self.images[index]), self.size)
        return dict(inputs=x, data_samples=index)


class FeatureExtractor:
    """Embeds images with one encoder of an H-JEPA model.

    Images are scaled to cover the model's input size and centre-cropped,
    then normalised by the model's data preprocessor; features come from
    :func:`hjepa.evaluation.extract_features`, as in the evaluation
    protocols.

    Args:
        model: An HJEPA model (from :func:`get_model`).
        encoder: ``'target'`` (the EMA encoder, the one evaluated) or
            ``'context'``.
        pooling: ``'avg'``: token average [N, D]; ``'cat4'``: the token
            averages of the last 4 layers side by side [N, 4 * D];
            ``'tokens'``: patch tokens [N, L, D].
        batch_size: Images per forward pass.
        out_layers: Blocks to read (negative from the end) instead of the
            last; ``avg`` and ``tokens`` then give a tuple, one tensor per
            block. See :func:`hjepa.evaluation.features.encode`.

    Example:
        >>> model = get_model('hjepa_vit-tiny-d6-p4_cifar10', pretrained=True)
        >>> feats = FeatureExtractor(model)('path/to/folder')  # [N, 192]
    """

    def __init__(self,
                 model,
                 encoder: str = 'target',
                 pooling: str = 'avg',
                 batch_size: int = 64,
                 out_layers: Optional[Sequence[int]] = None) -> None:
        if encoder not in ('target', 'context'):
            raise ValueError(
                f"encoder {encoder!r} must be 'target' or 'context'")
        if pooling not in POOLINGS:
            raise ValueError(f'pooling {pooling!r} must be one of {POOLINGS}')
        if batch_size < 1:
            raise ValueError(f'batch_size {batch_size} must be >= 1')
        self.model = unwrap_model(model)
        self.encoder, self.pooling = encoder, pooling
        self.batch_size = batch_size
        self.out_layers = None if out_layers is None else list(out_layers)

    @property
    def image_size(self) -> Tuple[int, int]:
        """(H, W) the images are resized to: the encoder's."""
        return tuple(self.model.backbone.img_size)

    def __call__(self, images: Union[ImageLike, List[ImageLike]]) -> Features:
        """Features of ``images``, in their order (a folder's in sorted
        path order, see :func:`scan_image_folder`).

        Args:
            images: An image file or folder, a PIL image, a uint8 (0-255)
                or float (0-1) array [H, W, C] or [N, H, W, C], a tensor
                [C, H, W] or [N, C, H, W], or a list of any of these.

        Returns:
            Float32 features on the CPU: [N, D] (``avg``), [N, 4 * D]
            (``cat4``) or [N, L, D] (``tokens``); a tuple of them per
            block with ``out_layers`` (not for ``cat4``).
        """
        items = _split(images)
        if not items:
            raise ValueError('no images given')
        loader = DataLoader(
            _Images(items, self.image_size),
            batch_size=self.batch_size,
            shuffle=False)
        feats, _ = extract_features(
            self.model,
            loader,
            self.encoder,
            pooling=self.pooling,
            out_layers=self.out_layers)
        return feats
