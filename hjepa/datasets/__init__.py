from .cifar import CIFAR10_CLASSES, prepare_cifar10
from .cifar_composite import SEG_CLASSES, make_cifar_composite
from .image_folder import (ImageFolderDataset, InMemoryImageFolder, read_rgb,
                           scan_image_folder)
from .transforms import (JEPARandomFlip, JEPARandomResizedCrop,
                         JEPAResizeCenterCrop, LoadImageRGB, PackJEPAInputs,
                         transform_rng)

__all__ = [
    'CIFAR10_CLASSES', 'prepare_cifar10', 'SEG_CLASSES',
    'make_cifar_composite', 'ImageFolderDataset', 'InMemoryImageFolder',
    'read_rgb', 'scan_image_folder', 'LoadImageRGB', 'JEPARandomResizedCrop',
    'JEPAResizeCenterCrop', 'JEPARandomFlip', 'PackJEPAInputs', 'transform_rng'
]
