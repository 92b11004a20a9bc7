"""Checks of constructor arguments shared by the models."""
import numbers


def is_int(value) -> bool:
    """An integer from Python or numpy (``np.int64(2)``, what a config
    computed with numpy holds), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)
