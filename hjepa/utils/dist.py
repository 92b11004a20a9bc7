"""The distributed plumbing every evaluation shares: unwrap a model, compute
on rank 0 and hand the result to every rank, gather rows in dataset order.

Each works unchanged in a single process (no process group), where it is
the plain computation.
"""
import time
from typing import Any, Callable, List, Optional

from mmengine.dist import broadcast_object_list, collect_results, get_rank
from mmengine.model import is_model_wrapper


def init_cpu_dist(cfg, launcher: str) -> None:
    """Start the process group of a ``torchrun`` launch without a GPU.

    mmengine's ``pytorch`` launcher picks a CUDA device first; it skips its
    own set-up once a group exists. Call after :func:`~hjepa.utils.
    load_config` (which sets Gloo and DDP without device ids on CPUs) and
    before building the runner; nothing happens with a GPU, another
    launcher, or a group already started.
    """
    import torch
    if launcher != 'pytorch' or torch.cuda.is_available() or \
            torch.distributed.is_initialized():
        return
    backend = cfg.get('env_cfg', {}).get('dist_cfg', {}).get('backend', 'gloo')
    torch.distributed.init_process_group(backend=backend)


def unwrap_model(model):
    """The model inside a DDP/FSDP (mmengine) wrapper, or ``model``."""
    return model.module if is_model_wrapper(model) else model


def on_rank0(fn: Callable[[], Any], timed: bool = False) -> Any:
    """``fn()`` computed on rank 0 only; every rank returns its result.

    The other ranks wait in the broadcast (raise ``env_cfg.dist_cfg
    .timeout`` above ``fn``'s run time on long evaluations). Rank 0 deciding
    alone keeps every rank acting alike where floats need not agree to
    the last bit across devices.

    Args:
        fn: Computes a picklable result.
        timed: ``fn`` returns a dict; add ``'seconds'``, its run time.
    """
    result = [None]
    if get_rank() == 0:
        start = time.perf_counter()
        result[0] = fn()
        if timed:
            result[0]['seconds'] = time.perf_counter() - start
    broadcast_object_list(result)
    return result[0]


def gather_in_order(rows: List[Any], size: int) -> Optional[List[Any]]:
    """Every rank's ``rows`` (its share of a dataset, read through a
    distributed sampler) in dataset order, on rank 0; None elsewhere.

    Args:
        rows: This rank's rows, one per sample.
        size: The dataset's length (drops the sampler's padding).
    """
    return collect_results(rows, size, 'cpu')
