"""H-JEPA registries, children of mmengine's root registries.

Every registry uses the scope ``hjepa`` and a ``locations`` list, so a config
outside this package (an mmdet or mmseg config, say) can refer to a component
as ``type='hjepa.<ClassName>'`` and the registry imports the module that
defines it on first use.
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import TASK_UTILS as MMENGINE_TASK_UTILS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import \
    WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

__all__ = [
    'RUNNERS', 'LOOPS', 'HOOKS', 'LOG_PROCESSORS', 'OPTIMIZERS',
    'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS',
    'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS', 'MODEL_WRAPPERS',
    'WEIGHT_INITIALIZERS', 'TASK_UTILS', 'METRICS', 'EVALUATOR', 'VISUALIZERS',
    'VISBACKENDS', 'FUNCTIONS', 'PROTOCOLS'
]

RUNNERS = Registry(
    'runner',
    parent=MMENGINE_RUNNERS,
    scope='hjepa',
    locations=['hjepa.engine'])
LOOPS = Registry(
    'loop',
    parent=MMENGINE_LOOPS,
    scope='hjepa',
    locations=['hjepa.engine', 'hjepa.evaluation'])
HOOKS = Registry(
    'hook', parent=MMENGINE_HOOKS, scope='hjepa', locations=['hjepa.engine'])
LOG_PROCESSORS = Registry(
    'log processor',
    parent=MMENGINE_LOG_PROCESSORS,
    scope='hjepa',
    locations=['hjepa.engine'])
OPTIMIZERS = Registry(
    'optimizer',
    parent=MMENGINE_OPTIMIZERS,
    scope='hjepa',
    locations=['hjepa.engine'])
OPTIM_WRAPPERS = Registry(
    'optim_wrapper',
    parent=MMENGINE_OPTIM_WRAPPERS,
    scope='hjepa',
    locations=['hjepa.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
    scope='hjepa',
    locations=['hjepa.engine'])
PARAM_SCHEDULERS = Registry(
    'parameter scheduler',
    parent=MMENGINE_PARAM_SCHEDULERS,
    scope='hjepa',
    locations=['hjepa.engine'])

DATASETS = Registry(
    'dataset',
    parent=MMENGINE_DATASETS,
    scope='hjepa',
    locations=['hjepa.datasets'])
DATA_SAMPLERS = Registry(
    'data sampler',
    parent=MMENGINE_DATA_SAMPLERS,
    scope='hjepa',
    locations=['hjepa.datasets'])
TRANSFORMS = Registry(
    'transform',
    parent=MMENGINE_TRANSFORMS,
    scope='hjepa',
    locations=['hjepa.datasets'])

MODELS = Registry(
    'model', parent=MMENGINE_MODELS, scope='hjepa', locations=['hjepa.models'])
MODEL_WRAPPERS = Registry(
    'model_wrapper',
    parent=MMENGINE_MODEL_WRAPPERS,
    scope='hjepa',
    locations=['hjepa.models'])
WEIGHT_INITIALIZERS = Registry(
    'weight initializer',
    parent=MMENGINE_WEIGHT_INITIALIZERS,
    scope='hjepa',
    locations=['hjepa.models'])
TASK_UTILS = Registry(
    'task util',
    parent=MMENGINE_TASK_UTILS,
    scope='hjepa',
    locations=['hjepa.models'])

METRICS = Registry(
    'metric',
    parent=MMENGINE_METRICS,
    scope='hjepa',
    locations=['hjepa.evaluation'])
# Evaluation protocols (k-NN, linear probe, ...) run by ProtocolTestLoop on
# frozen features; mmengine has no root registry for them.
PROTOCOLS = Registry(
    'evaluation protocol', scope='hjepa', locations=['hjepa.evaluation'])
EVALUATOR = Registry(
    'evaluator',
    parent=MMENGINE_EVALUATOR,
    scope='hjepa',
    locations=['hjepa.evaluation'])

VISUALIZERS = Registry(
    'visualizer',
    parent=MMENGINE_VISUALIZERS,
    scope='hjepa',
    locations=['hjepa.engine'])
VISBACKENDS = Registry(
    'vis_backend',
    parent=MMENGINE_VISBACKENDS,
    scope='hjepa',
    locations=['hjepa.engine'])

FUNCTIONS = Registry(
    'function',
    parent=MMENGINE_FUNCTIONS,
    scope='hjepa',
    locations=['hjepa.datasets'])
