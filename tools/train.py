"""Pretrain an H-JEPA model: ``python tools/train.py CONFIG [options]``."""
import argparse
import logging
import os
import os.path as osp
import sys

from mmengine.config import DictAction
from mmengine.runner import Runner

# The repository root, so configs can custom_import `projects.<name>`.
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))


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
        '--amp', action='store_true', help='bf16 mixed precision (CPU too)')
    parser.add_argument(
        '--compile',
        action='store_true',
        help='torch.compile the transformer blocks (model.compile=True)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
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
    register_all_modules()

    cfg = load_config(args.config, args.cfg_options, args.work_dir,
                      args.launcher)
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
    runner.train()


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
    from mmengine.model import is_model_wrapper

    from hjepa.utils.checkpoint import CheckpointError, check_model_checkpoint
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
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
    """Drops from the console what the log file keeps, and everywhere the
    optimizer constructor's warnings about the frozen target encoder."""

    def __init__(self, console: bool) -> None:
        super().__init__()
        self.console = console

    def filter(self, record: logging.LogRecord) -> bool:
        msg = str(record.msg)
        if msg.startswith('target_encoder.') and msg.endswith(
                'is skipped since its requires_grad=False'):
            return False  # frozen on purpose: the EMA copy
        return not (self.console and msg.startswith(_FILE_ONLY))


def quiet_start(runner_cls):
    """``runner_cls`` with a logger whose console skips the environment,
    config and hook dumps (they stay in the log file)."""

    class QuietStart(runner_cls):

        def build_logger(self, *args, **kwargs):
            logger = super().build_logger(*args, **kwargs)
            for handler in logger.handlers:
                console = not isinstance(handler, logging.FileHandler)
                handler.addFilter(_QuietConsole(console))
            logger.info(f'environment, config and hooks: in {logger.log_file}')
            return logger

    QuietStart.__name__ = runner_cls.__name__
    return QuietStart


if __name__ == '__main__':
    main()
