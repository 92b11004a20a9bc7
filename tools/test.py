"""Evaluate a checkpoint: ``python tools/test.py CONFIG CHECKPOINT``.

Runs the protocols of the config's ``test_cfg`` (k-NN by default);
``--protocol all`` (or a list of names: knn linear_probe few_shot
feature_quality finetune) runs those instead, beside a randomly initialised
encoder and raw pixels, and writes a JSON + Markdown report with plots to
``--report-dir`` (default ``<work-dir>/report``). ``CHECKPOINT`` may be
``random`` for a randomly initialised encoder of the config's shape.
"""
import argparse
import json
import os
import os.path as osp
import sys
import time

from mmengine.runner import Runner

# The repository root, so configs can custom_import `projects.<name>`.
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from hjepa.utils import CfgOptionsAction  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(
        description='evaluate a checkpoint (k-NN, linear probe, few-shot, '
        'fine-tuning, feature quality)')
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help="checkpoint file, or 'random'")
    parser.add_argument('--work-dir', help='where logs and results go')
    parser.add_argument(
        '--encoder',
        choices=['target', 'context'],
        help='encoder whose features are scored (default: the config\'s)')
    parser.add_argument(
        '--protocol',
        nargs='+',
        metavar='NAME',
        help="protocols to run: 'all' or names from test_cfg.protocols")
    parser.add_argument(
        '--subjects',
        nargs='+',
        choices=['model', 'random_init', 'raw_pixels'],
        help='what to evaluate (default with --protocol: all three)')
    parser.add_argument(
        '--report-dir',
        help='write report.json, report.md and plots here (default with '
        '--protocol: <work-dir>/report)')
    parser.add_argument('--out', help='write the metrics to this JSON file')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=CfgOptionsAction,
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


def _is_protocol_loop(loop) -> bool:
    """Whether test_cfg.type names ProtocolTestLoop (scoped or not) or a
    subclass of it that takes ``run`` and ``subjects`` (KNNTestLoop, the
    k-NN-only alias, does not)."""
    from hjepa.evaluation import KNNTestLoop, ProtocolTestLoop
    from hjepa.registry import LOOPS
    cls = LOOPS.get(loop) if isinstance(loop, str) else loop
    return isinstance(cls, type) and issubclass(cls, ProtocolTestLoop) \
        and not issubclass(cls, KNNTestLoop)


def main():
    args = parse_args()
    from hjepa.utils import load_config, register_all_modules
    register_all_modules()

    from hjepa.utils.config import refuse_resolved_variables
    refuse_resolved_variables(
        args.cfg_options, 'Set the data sets\' own keys instead, e.g. '
        'test_dataloader.dataset.data_root=DIR and '
        'test_cfg.bank_dataloader.dataset.data_root=DIR.')
    cfg = load_config(args.config, args.cfg_options, args.work_dir,
                      args.launcher)
    from hjepa.utils.dist import init_cpu_dist
    init_cpu_dist(cfg, args.launcher)
    if args.encoder is not None:
        cfg.test_cfg.encoder = args.encoder
    loop = cfg.test_cfg.get('type')
    if (args.protocol or args.subjects or args.report_dir) and \
            not _is_protocol_loop(loop):
        raise SystemExit(
            f'--protocol, --subjects and --report-dir need test_cfg.type = '
            f"'ProtocolTestLoop'; {args.config} has {loop!r} (k-NN only)")
    if args.protocol:
        cfg.test_cfg.run = 'all' if args.protocol == ['all'] \
            else args.protocol
        # with CHECKPOINT=random the model is itself the random init
        cfg.test_cfg.subjects = args.subjects or (
            ['model', 'raw_pixels'] if args.checkpoint == 'random' else
            ['model', 'random_init', 'raw_pixels'])
        cfg.test_cfg.report_dir = args.report_dir or osp.join(
            cfg.work_dir, 'report')
    else:
        if args.subjects:
            cfg.test_cfg.subjects = args.subjects
        if args.report_dir:
            cfg.test_cfg.report_dir = args.report_dir
    random_init = args.checkpoint == 'random'
    # loaded below, strictly: mmengine's load_from loads whatever fits
    cfg.load_from = None

    runner = Runner.from_cfg(cfg)
    from hjepa.utils.dist import unwrap_model
    model = unwrap_model(runner.model)
    if random_init:
        model.init_weights()
    else:
        from hjepa.utils.checkpoint import CheckpointError, load_model_weights
        try:
            skipped = load_model_weights(model, args.checkpoint,
                                         cfg.test_cfg.get('encoder', 'target'))
        except (CheckpointError, FileNotFoundError) as e:
            raise SystemExit(f'error: {e}')
        if skipped:
            runner.logger.warning(
                f'{len(skipped)} keys outside the evaluated encoder were not '
                f'loaded from {args.checkpoint}: {skipped[:5]}')
        runner.cfg.load_from = args.checkpoint  # the report names it
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
