from .level_projector import LevelProjectionNeck
from .simple_feature_pyramid import SimpleFeaturePyramid

__all__ = ['LevelProjectionNeck', 'SimpleFeaturePyramid']
