"""Pretrain an H-JEPA model: ``python tools/train.py CONFIG [options]``."""
import argparse
import logging
import os
import os.path as osp
import sys

from mmengine.runner import Runner

# The repository root, so configs can custom_import `projects.<name>`.
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from hjepa.utils import CfgOptionsAction  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description='Pretrain with H-JEPA')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from this checkpoint, or from the latest one in the '
        'work dir when no path is given')
    parser.add_argument(
        '--data-root',
        metavar='DIR',
        help='train on the images in DIR (at any depth; class folders are '
        'optional) instead of the config\'s training set')
    parser.add_argument(
        '--amp', action='store_true', help='bf16 mixed precision (CPU too)')
    parser.add_argument(
        '--compile',
        action='store_true',
        help='torch.compile the transformer blocks (model.compile=True)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=CfgOptionsAction,
        help='override config keys, e.g. train_dataloader.batch_size=64')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main():
    args = parse_args()
    from hjepa.utils import apply_amp, load_config, register_all_modules
    from hjepa.utils.config import refuse_resolved_variables
    register_all_modules()

    cfg_options = args.cfg_options or {}
    refuse_resolved_variables(
        cfg_options, f'Use --data-root {cfg_options.get("data_root")} to '
        'train on a folder of images.')
    if args.data_root is not None:  # --cfg-options still have the last word
        cfg_options = {
            **data_root_options(args.config, args.data_root),
            **cfg_options
        }
    cfg = load_config(args.config, cfg_options, args.work_dir, args.launcher)
    from hjepa.utils.dist import init_cpu_dist
    init_cpu_dist(cfg, args.launcher)
    if args.amp:
        apply_amp(cfg)
    if args.compile or cfg.get('compile'):
        # mmengine's own `compile` would compile the whole train_step, mask
        # sampling and optimizer included; H-JEPA compiles its blocks
        compile_cfg = cfg.pop('compile', None)
        cfg.model.compile = compile_cfg if isinstance(compile_cfg,
                                                      dict) else True
    if args.resume is not None:
        cfg.resume = True
        cfg.load_from = latest_checkpoint(cfg.work_dir) \
            if args.resume == 'auto' else args.resume

    if cfg.get('runner_type') == 'FlexibleRunner' or 'strategy' in cfg:
        from mmengine.runner import FlexibleRunner  # FSDP, DeepSpeed
        runner = quiet_start(FlexibleRunner).from_cfg(cfg)
    else:
        runner = quiet_start(Runner).from_cfg(cfg)
    if args.resume is not None:
        check_resume(runner, cfg.load_from)
    check_one_batch(runner)
    runner.train()


def data_root_options(config: str, data_root: str) -> dict:
    """``--cfg-options`` that make the training set of ``config`` the
    images in ``data_root``: no split sub-folder, no subset, and for the
    in-memory set, images resized to the encoder's input size."""
    from mmengine.config import Config
    if not osp.isdir(data_root):
        raise SystemExit(f'error: --data-root {data_root} is not a folder')
    cfg = Config.fromfile(config)
    dataset = cfg.train_dataloader.dataset
    kinds = ('ImageFolderDataset', 'InMemoryImageFolder')
    kind = str(dataset.get('type')).split('.')[-1]
    if kind not in kinds:
        raise SystemExit(
            f'error: --data-root needs a training set of type {kinds}; '
            f'{config} has {dataset.get("type")!r}')
    prefix = 'train_dataloader.dataset.'
    options = {
        prefix + 'data_root': data_root,
        prefix + 'data_prefix': '',
        prefix + 'max_samples': None
    }
    img_size = cfg.get('model', {}).get('backbone', {}).get('img_size')
    if kind == 'InMemoryImageFolder' and img_size and \
            dataset.get('img_size') is None:
        options[prefix + 'img_size'] = img_size
    return options


def check_one_batch(runner) -> None:
    """Fail with one clear message if the training set is smaller than a
    batch that ``drop_last`` drops (mmengine would fail in a scheduler)."""
    loader = runner.train_loop.dataloader
    try:
        num_batches = len(loader)
    except TypeError:
        return  # an iterable dataset: no length to check
    if num_batches == 0:
        dataset = loader.dataset
        where = getattr(dataset, 'folder', type(dataset).__name__)
        raise SystemExit(
            f'error: the training set ({where}) has {len(dataset)} images, '
            f'fewer than one batch of {loader.batch_size} (drop_last='
            f'{loader.drop_last}): add images or lower '
            'train_dataloader.batch_size with --cfg-options')


def latest_checkpoint(work_dir: str) -> str:
    """The checkpoint ``last_checkpoint`` in ``work_dir`` names."""
    record = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(record):
        raise SystemExit(
            f'error: --resume found no checkpoint to resume: {work_dir} has '
            'no last_checkpoint file (no checkpoint was saved there). Give '
            'the checkpoint (--resume PATH) or the run\'s --work-dir, or '
            'leave out --resume to start from scratch.')
    with open(record) as f:
        return f.read().strip()


def check_resume(runner, checkpoint: str) -> None:
    """Fail with one clear message, before mmengine resumes, if the
    checkpoint cannot be read or does not fit the config's model."""
    import torch

    from hjepa.utils.checkpoint import CheckpointError, check_model_checkpoint
    from hjepa.utils.dist import unwrap_model
    model = unwrap_model(runner.model)
    if not isinstance(model, torch.nn.Module):
        return  # FlexibleRunner: built by its strategy, later
    try:
        check_model_checkpoint(model, checkpoint)
    except (CheckpointError, FileNotFoundError) as e:
        raise SystemExit(f'error: cannot resume: {e}')


# Console lines that hide the first progress line: kept in the log file.
_FILE_ONLY = ('\n-----', 'Config:\n', 'Hooks will be executed',
              'paramwise_options --', '"FileClient" will be deprecated',
              '"HardDiskBackend" is the alias', 'Distributed training is not '
              'used')


class _QuietConsole(logging.Filter):
    """Drops from the console what the log file keeps. (The optimizer
    constructor's warnings about the frozen target encoder are not made:
    ``GroupedOptimWrapperConstructor`` counts them in one line.)"""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_FILE_ONLY)


def quiet_start(runner_cls):
    """``runner_cls`` with a logger whose console skips the environment,
    config and hook dumps (they stay in the log file)."""

    class QuietStart(runner_cls):

        def build_logger(self, *args, **kwargs):
            logger = super().build_logger(*args, **kwargs)
            for handler in logger.handlers:
                if not isinstance(handler, logging.FileHandler):
                    handler.addFilter(_QuietConsole())
            logger.info(f'environment, config and hooks: in {logger.log_file}')
            return logger

    QuietStart.__name__ = runner_cls.__name__
    return QuietStart


if __name__ == '__main__':
    main()
