"""Small, un-augmented evaluation subsets for hooks that probe a model."""
import copy
from typing import Optional

from torch.utils.data import Dataset

from hjepa.registry import DATASETS

ROLES = ('bank', 'query')


def build_eval_subset(runner,
                      role: str,
                      size: int,
                      dataset: Optional[dict] = None) -> Optional[Dataset]:
    """An evenly spread subset of at most ``size`` images of an evaluation
    split (the dataset's ``max_samples``; the whole split if it is smaller).

    Args:
        runner: Its config gives the split when ``dataset`` is None.
        role: ``'bank'``: the dataset of ``test_cfg.bank_dataloader`` (the
            training split, un-augmented); ``'query'``: that of
            ``test_dataloader``.
        size: Images at most.
        dataset: Dataset config to use instead of the runner's.

    Returns:
        The dataset, or None if ``dataset`` is None and the config has no
        such split.
    """
    if role not in ROLES:
        raise ValueError(f'role {role!r} must be one of {ROLES}')
    if dataset is None:
        if role == 'bank':
            source = (runner.cfg.get('test_cfg') or {}).get('bank_dataloader')
        else:
            source = runner.cfg.get('test_dataloader')
        if not source or 'dataset' not in source:
            return None
        dataset = source['dataset']
    cfg = copy.deepcopy(dict(dataset))
    cfg['max_samples'] = min(size, cfg.get('max_samples') or size)
    try:
        return DATASETS.build(cfg)
    except ValueError:  # a split smaller than the subset: all of it
        cfg['max_samples'] = None
        return DATASETS.build(cfg)
