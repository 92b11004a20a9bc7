"""Registering H-JEPA's modules and setting the default scope."""
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every H-JEPA module so its registrations take effect, and
    allow-list the types of H-JEPA checkpoints for safe loading.

    Args:
        init_default_scope: Make ``hjepa`` the default registry scope, so
            configs can name components without the ``hjepa.`` prefix.
    """
    import hjepa.datasets  # noqa: F401
    import hjepa.engine  # noqa: F401
    import hjepa.evaluation  # noqa: F401
    import hjepa.models  # noqa: F401
    from hjepa.utils.checkpoint import allow_checkpoint_types
    allow_checkpoint_types()  # mmengine's resume calls torch.load itself

    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None or current.scope_name != 'hjepa':
        if current is not None:
            warnings.warn(f'default scope is {current.scope_name!r}; '
                          "switching to 'hjepa'")
        name = f'hjepa-{datetime.datetime.now()}'
        DefaultScope.get_instance(name, scope_name='hjepa')
