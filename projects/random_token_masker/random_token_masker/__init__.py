from .random_token_masker import RandomTokenMasker

__all__ = ['RandomTokenMasker']
