from .ema_hook import TargetEncoderEMAHook
from .safe_checkpoint_hook import SafeCheckpointHook

__all__ = ['TargetEncoderEMAHook', 'SafeCheckpointHook']
