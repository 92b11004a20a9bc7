"""Evaluate a checkpoint by k-NN: ``python tools/test.py CONFIG CHECKPOINT``.

``CHECKPOINT`` may be ``random`` for a randomly initialised encoder of the
config's shape: the floor every pretrained number should be read against.
"""
import argparse
import json
import os
import os.path as osp
import sys
import time

from mmengine.config import DictAction
from mmengine.runner import Runner

# The repository root, so configs can custom_import `projects.<name>`.
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args():
    parser = argparse.ArgumentParser(description='k-NN evaluation')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help="checkpoint file, or 'random'")
    parser.add_argument('--work-dir', help='where logs and results go')
    parser.add_argument(
        '--encoder',
        choices=['target', 'context'],
        help='encoder whose features are scored (default: the config\'s)')
    parser.add_argument(
        '--out', help='write the metrics to this JSON file')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config keys')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main():
    args = parse_args()
    from hjepa.utils import load_config, register_all_modules
    register_all_modules()

    cfg = load_config(args.config, args.cfg_options, args.work_dir,
                      args.launcher)
    if args.encoder is not None:
        cfg.test_cfg.encoder = args.encoder
    random_init = args.checkpoint == 'random'
    cfg.load_from = None if random_init else args.checkpoint

    runner = Runner.from_cfg(cfg)
    if random_init:
        from mmengine.model import is_model_wrapper
        model = runner.model
        (model.module if is_model_wrapper(model) else model).init_weights()
    start = time.perf_counter()
    metrics = runner.test()
    metrics = {k: float(v) for k, v in metrics.items()}
    print(json.dumps(metrics, indent=2))
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(
                dict(
                    config=args.config,
                    checkpoint=args.checkpoint,
                    encoder=cfg.test_cfg.get('encoder', 'target'),
                    eval_wall_seconds=time.perf_counter() - start,
                    metrics=metrics),
                f,
                indent=2)


if __name__ == '__main__':
    main()
