from .predictor import HJEPAPredictor

__all__ = ['HJEPAPredictor']
