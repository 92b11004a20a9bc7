from .vision_transformer import HJEPAViT

__all__ = ['HJEPAViT']
