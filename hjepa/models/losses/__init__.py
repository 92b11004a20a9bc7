from .latent_losses import (CosineLatentLoss, LatentLoss, MSELatentLoss,
                            SmoothL1LatentLoss)
from .regularizers import SIGReg, VarianceCovarianceReg

__all__ = [
    'LatentLoss', 'SmoothL1LatentLoss', 'MSELatentLoss', 'CosineLatentLoss',
    'SIGReg', 'VarianceCovarianceReg'
]
