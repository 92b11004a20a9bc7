from .amp import apply_amp
from .config import load_config
from .setup_env import register_all_modules

__all__ = ['apply_amp', 'load_config', 'register_all_modules']
