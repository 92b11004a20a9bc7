from .atomic_checkpoint_hook import AtomicCheckpointHook
from .collapse_monitor_hook import (CollapseMonitorHook,
                                    RepresentationCollapseError)
from .ema_hook import TargetEncoderEMAHook
from .level_weight_hook import LevelWeightScheduleHook
from .non_finite_loss_hook import NonFiniteLossError, NonFiniteLossHook
from .online_knn_hook import OnlineKNNHook
from .safe_checkpoint_hook import SafeCheckpointHook

__all__ = [
    'TargetEncoderEMAHook', 'SafeCheckpointHook', 'CollapseMonitorHook',
    'RepresentationCollapseError', 'OnlineKNNHook', 'AtomicCheckpointHook',
    'NonFiniteLossHook', 'NonFiniteLossError', 'LevelWeightScheduleHook'
]
