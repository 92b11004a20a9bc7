from .color_jitter import BatchColorJitter
from .data_preprocessor import HJEPADataPreprocessor

__all__ = ['BatchColorJitter', 'HJEPADataPreprocessor']
