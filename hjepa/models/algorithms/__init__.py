from .hjepa import HJEPA

__all__ = ['HJEPA']
