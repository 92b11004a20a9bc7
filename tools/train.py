"""Pretrain an H-JEPA model: ``python tools/train.py CONFIG [options]``."""
import argparse
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
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    if cfg.get('runner_type') == 'FlexibleRunner' or 'strategy' in cfg:
        from mmengine.runner import FlexibleRunner  # FSDP, DeepSpeed
        runner = FlexibleRunner.from_cfg(cfg)
    else:
        runner = Runner.from_cfg(cfg)
    runner.train()


if __name__ == '__main__':
    main()
