from .multi_layer_pyramid import MultiLayerFeaturePyramid

__all__ = ['MultiLayerFeaturePyramid']
