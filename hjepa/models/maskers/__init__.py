from .multi_block import MultiBlockMasker

__all__ = ['MultiBlockMasker']
