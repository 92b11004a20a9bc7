from .amp import apply_amp, cpu_bf16_matmul_supported
from .checkpoint import (CheckpointError, check_model_checkpoint,
                         load_model_weights, read_checkpoint)
from .config import CfgOptionsAction, fit_schedule_to_iters, load_config
from .setup_env import register_all_modules

__all__ = [
    'CfgOptionsAction', 'apply_amp', 'cpu_bf16_matmul_supported',
    'fit_schedule_to_iters', 'load_config', 'register_all_modules',
    'CheckpointError', 'check_model_checkpoint', 'load_model_weights',
    'read_checkpoint'
]
