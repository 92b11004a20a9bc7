from .plots import (plot_embedding, plot_masks, plot_training_curves,
                    read_scalars)

__all__ = [
    'plot_embedding', 'plot_masks', 'plot_training_curves', 'read_scalars'
]
