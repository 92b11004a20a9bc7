from .level_projector import LevelProjectionNeck

__all__ = ['LevelProjectionNeck']
