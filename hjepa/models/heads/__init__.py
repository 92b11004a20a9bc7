from .hierarchical_head import HierarchicalLatentHead
from .predictor import HJEPAPredictor, shared_context_mask

__all__ = ['HJEPAPredictor', 'HierarchicalLatentHead', 'shared_context_mask']
