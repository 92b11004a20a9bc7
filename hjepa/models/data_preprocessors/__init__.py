from .data_preprocessor import HJEPADataPreprocessor

__all__ = ['HJEPADataPreprocessor']
