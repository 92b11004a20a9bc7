from .collapse_monitor_hook import (CollapseMonitorHook,
                                    RepresentationCollapseError)
from .ema_hook import TargetEncoderEMAHook
from .online_knn_hook import OnlineKNNHook
from .safe_checkpoint_hook import SafeCheckpointHook

__all__ = [
    'TargetEncoderEMAHook', 'SafeCheckpointHook', 'CollapseMonitorHook',
    'RepresentationCollapseError', 'OnlineKNNHook'
]
