from .latent_losses import (CosineLatentLoss, LatentLoss, MSELatentLoss,
                            SmoothL1LatentLoss)

__all__ = [
    'LatentLoss', 'SmoothL1LatentLoss', 'MSELatentLoss', 'CosineLatentLoss'
]
