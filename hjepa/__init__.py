"""H-JEPA: Hierarchical Joint-Embedding Predictive Architectures."""
from .version import __version__

__all__ = ['__version__']
