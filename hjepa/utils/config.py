"""Config handling shared by the command-line tools."""
import ast
import os
import os.path as osp
from typing import Any, Optional

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import print_log


class CfgOptionsAction(DictAction):
    """``--cfg-options KEY=VALUE ...`` as mmengine's ``DictAction`` parses
    them, plus values holding dicts, which it cannot parse (a list of dicts
    sends it into endless recursion)::

        --cfg-options "model.head.levels=[dict(kind='patch'),
                       dict(kind='region', grid=2, center=True)]"

    A value with ``dict(`` or ``{`` in it is read as a Python literal in
    which ``dict(key=value, ...)`` is allowed (strings quoted, nothing
    called but ``dict``, nothing evaluated); every other value goes to
    ``DictAction`` unchanged (``1,2,3`` is still a list, ``a`` a string),
    as does a ``{...}`` value that is not a literal (``{a}``, a string).
    A value with ``dict(`` that is not a literal (``dict(kind=patch)``,
    which ``DictAction`` would keep as the string ``'dict(kind=patch)'``)
    is an argparse error naming the value and why, as is one ``DictAction``
    cannot read: never a traceback, never a string that looks like a
    dict.
    """

    def __call__(self, parser, namespace, values, option_string=None):
        options = dict(getattr(namespace, self.dest, None) or {})
        for kv in values or ():
            if '=' not in kv:
                parser.error(f'{option_string} takes KEY=VALUE, got {kv!r}')
            key, val = kv.split('=', maxsplit=1)
            try:
                options[key] = self._parse_value(val)
            except (ValueError, TypeError, AssertionError,
                    RecursionError) as e:
                parser.error(f'{option_string}: cannot read the value of '
                             f'{key!r}, {val!r}: {e}')
        setattr(namespace, self.dest, options)

    @classmethod
    def _parse_value(cls, val: str) -> Any:
        if 'dict(' not in val and '{' not in val:
            return cls._parse_iterable(val)
        try:
            return literal_with_dicts(val)
        except (SyntaxError, ValueError, TypeError) as e:
            if 'dict(' in val:  # mmengine reads these as strings, or recurses
                why = f'not Python: {e.msg}' if isinstance(
                    e, SyntaxError) else str(e)
                raise ValueError(why) from None
        return cls._parse_iterable(val)  # '{a}' say: mmengine's string


class _DictCallsToDicts(ast.NodeTransformer):
    """``dict(key=value, ...)`` -> ``{'key': value, ...}``; any other call or
    name is refused with the reason."""

    def visit_Call(self, node: ast.Call) -> ast.Dict:
        if not (isinstance(node.func, ast.Name) and node.func.id == 'dict'
                and not node.args and all(k.arg is not None
                                          for k in node.keywords)):
            raise ValueError(f'{ast.unparse(node)!r} is not a literal; only '
                             'dict(key=value, ...) may be called')
        return ast.Dict(
            keys=[ast.Constant(k.arg) for k in node.keywords],
            values=[self.visit(k.value) for k in node.keywords])

    def visit_Name(self, node: ast.Name) -> None:
        raise ValueError(f"{node.id!r} is not a value (quote strings: "
                         f"'{node.id}')")


def literal_with_dicts(text: str) -> Any:
    """``ast.literal_eval`` of ``text`` in which ``dict(key=value, ...)`` may
    stand for a dict. Nothing else is called or looked up:
    ``dict(kind=patch)`` (an unquoted string) is a ``ValueError`` naming
    ``patch``."""
    tree = ast.parse(text.strip(), mode='eval')
    return ast.literal_eval(_DictCallsToDicts().visit(tree).body)


def refuse_resolved_variables(cfg_options: Optional[dict], hint: str) -> None:
    """Exit with an error for ``--cfg-options data_root=...``: mmengine has
    already put a base config's ``data_root`` into the datasets, so setting
    the variable afterwards changes nothing (and would exit 0 on the
    config's own data). ``hint`` says what to use instead."""
    if cfg_options and 'data_root' in cfg_options:
        raise SystemExit(
            'error: --cfg-options data_root=... changes nothing: the config '
            'has already put its data_root into the datasets. ' + hint)


def load_config(path: str,
                cfg_options: Optional[dict] = None,
                work_dir: Optional[str] = None,
                launcher: str = 'none') -> Config:
    """Load ``path`` as the tools do.

    Applies ``--cfg-options``, stretches the schedule to the training
    length where the config asks (:func:`fit_schedule_to_length`), sets
    the launcher, and defaults the work dir to ``work_dirs/<config
    name>``. Where no GPU is present, a distributed launch runs on CPUs:
    Gloo instead of NCCL, DDP without device ids, and (for ``torchrun``)
    the process group is started here.
    """
    cfg = Config.fromfile(path)
    cfg.launcher = launcher
    if cfg_options is not None:
        cfg.merge_from_dict(cfg_options)
    fit_schedule_to_length(cfg)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(path))[0])
    if launcher != 'none' and not torch.cuda.is_available():
        # Distributed on CPUs: Gloo and DDP without device ids; the tools
        # then start the process group (hjepa.utils.dist.init_cpu_dist).
        dist_cfg = cfg.get('env_cfg', {}).get('dist_cfg', {})
        if dist_cfg.get('backend') == 'nccl':
            print_log(
                'no GPU: using the gloo backend instead of nccl',
                logger='current')
            cfg.env_cfg.dist_cfg.backend = 'gloo'
        wrapper = cfg.get('model_wrapper_cfg') or dict(
            type='MMDistributedDataParallel',
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
        wrapper['device_ids'] = None
        cfg.model_wrapper_cfg = wrapper
    return cfg


def _scheduler_list(cfg: Config) -> list:
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    return [dict(s) for s in schedulers]


def _scale_bounds(sched: dict, factor: float, integer: bool) -> None:
    for key in ('begin', 'end', 'T_max'):
        if key in sched and sched[key] is not None:
            value = sched[key] * factor
            sched[key] = max(1, round(value)) if key == 'T_max' else (
                round(value) if integer else value)


def fit_schedule_to_length(cfg: Config) -> Config:
    """Stretch or squeeze ``param_scheduler`` to ``train_cfg``'s length.

    mmengine resolves a base config's variables when it reads the base, so
    a leaf that sets ``train_cfg.max_epochs`` (or passes
    ``--cfg-options train_cfg.max_epochs=6``) would otherwise keep a
    schedule written for the base's length. A config that sets
    ``auto_fit_schedule = True`` (``configs/_base_/schedules/
    jepa_adamw.py`` does) has every scheduler's ``begin`` and ``end``
    scaled by (training length) / (the longest scheduler's ``end``): the
    warm-up keeps its share of training and the cosine ends with it.

    Args:
        cfg: A training config (changed in place and returned).

    Returns:
        ``cfg``.
    """
    train_cfg = cfg.get('train_cfg') or {}
    if not cfg.get('auto_fit_schedule', False):
        return cfg
    by_epoch = 'max_epochs' in train_cfg
    length = train_cfg.get('max_epochs', train_cfg.get('max_iters'))
    schedulers = _scheduler_list(cfg)
    if length is None or not schedulers:
        return cfg
    other = [
        s['type'] for s in schedulers if s.get('by_epoch', True) != by_epoch
    ]
    if other:
        raise ValueError(
            f'auto_fit_schedule needs every param_scheduler counted as the '
            f'training loop counts (by_epoch={by_epoch}); {other} are not')
    ends = [s['end'] for s in schedulers if s.get('end') is not None]
    if not ends or max(ends) == length:
        return cfg
    written = max(ends)
    for sched in schedulers:
        _scale_bounds(
            sched,
            length / written,
            integer=by_epoch and not sched.get('convert_to_iter_based', False))
    _keep_one_iteration(cfg, schedulers, by_epoch)
    cfg.param_scheduler = schedulers
    unit = 'epochs' if by_epoch else 'iterations'
    print_log(
        f'param_scheduler written for {written} {unit} fitted to '
        f'the {length} {unit} of train_cfg (auto_fit_schedule)',
        logger='current')
    return cfg


def _keep_one_iteration(cfg: Config, schedulers: list, by_epoch: bool) -> None:
    """Widen a scaled scheduler that would last less than one iteration
    (a warm-up squeezed into a one-epoch run of a small data set), which
    mmengine would round to an empty, refused range."""
    short = [
        s for s in schedulers if by_epoch and s.get('convert_to_iter_based')
        and s.get('end') is not None and s['end'] - s.get('begin', 0) < 1
    ]
    if not short:
        return
    world = int(os.environ.get('WORLD_SIZE', 1))
    one = world / max(_epoch_length(cfg), 1)  # one iteration, in epochs
    for sched in short:
        sched['end'] = max(sched['end'], sched.get('begin', 0) + one)


def _epoch_length(cfg: Config) -> int:
    """Iterations per epoch of ``cfg.train_dataloader`` (builds the
    dataset, which for the in-memory sets reads the image list only once
    cached)."""
    import hjepa.datasets  # noqa: F401 (registers the data sets)
    from hjepa.registry import DATASETS  # whatever the default scope
    loader = cfg.train_dataloader
    dataset = DATASETS.build(loader.dataset)
    n, batch = len(dataset), loader.batch_size
    return n // batch if loader.get('drop_last', False) else -(-n // batch)


def fit_schedule_to_iters(cfg: Config,
                          max_iters: int,
                          epoch_length: Optional[int] = None) -> Config:
    """Make ``cfg`` train for ``max_iters`` iterations with its whole
    schedule, stretched or squeezed, inside them.

    Every parameter scheduler keeps its shape: its ``begin`` and ``end``,
    as fractions of the training length the config was written for
    (``train_cfg.max_epochs`` or ``max_iters``), become the same fractions
    of ``max_iters``. Warm-up, cosine and weight-decay schedules therefore
    all complete, and hooks that follow ``runner.max_iters`` (the EMA
    momentum ramp) do too. The loop becomes an ``IterBasedTrainLoop`` that
    saves one checkpoint at the end, over an ``InfiniteSampler``.

    Args:
        cfg: A training config (changed in place and returned).
        max_iters: Iterations to train for.
        epoch_length: Iterations per epoch; measured from the dataset when
            None and the config is epoch-based.

    Returns:
        ``cfg``.
    """
    if max_iters < 1:
        raise ValueError(f'max_iters {max_iters} must be >= 1')
    train_cfg = cfg.train_cfg
    by_epoch = 'max_epochs' in train_cfg
    written = train_cfg.max_epochs if by_epoch else train_cfg.max_iters
    schedulers = _scheduler_list(cfg)
    if epoch_length is None and any(
            s.get('by_epoch', True) != by_epoch for s in schedulers):
        epoch_length = _epoch_length(cfg)
    fitted = []
    for sched in schedulers:
        in_epochs = sched.get('by_epoch', True)
        if in_epochs == by_epoch:
            unit = written  # the schedule's units are the loop's
        elif by_epoch:
            unit = written * epoch_length  # iterations of an epoch loop
        else:
            unit = written / epoch_length  # epochs of an iteration loop
        _scale_bounds(sched, max_iters / unit, integer=True)
        sched['by_epoch'] = False
        sched.pop('convert_to_iter_based', None)
        fitted.append(sched)
    cfg.param_scheduler = fitted
    cfg.train_cfg = dict(
        type='IterBasedTrainLoop',
        max_iters=max_iters,
        val_interval=max_iters + 1)
    sampler = cfg.train_dataloader.get('sampler', {})
    if sampler.get('type') == 'DefaultSampler':
        # mmengine pauses 2 s whenever a finite sampler restarts
        cfg.train_dataloader.sampler = dict(
            type='InfiniteSampler', shuffle=sampler.get('shuffle', True))
    cfg.log_processor = dict(cfg.get('log_processor', {}), by_epoch=False)
    ckpt = cfg.default_hooks.get('checkpoint')
    if ckpt is not None:
        ckpt.update(by_epoch=False, interval=max_iters)
    return cfg
