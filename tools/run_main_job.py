"""The main job (``make train``): pretrain a config, then score it by k-NN.

Times a training step on this machine first and, where the config's epochs
would not fit ``--budget-minutes`` of training (60 by default), trains for as
many whole epochs as fit (``--cfg-options train_cfg.max_epochs=N``: the
schedule follows); never more epochs than the config asks for (the
timed steps may fill ``--margin`` of the budget, 0.8 by default, and
``results.json`` says how the loop kept to them). Machines
differ several-fold (0.35 s/iteration on two AMD Zen 5 cores, 1.6 on two
Zen 2 cores, which have no bf16 kernels), and an hour's job must stay an
hour's job.

Runs ``tools/train.py CONFIG --amp``, then ``tools/test.py`` (k-NN) on the
final checkpoint's target encoder and on a randomly initialised encoder of
the same shape, and writes ``results.json`` and ``results.md`` to the work dir
with the config, the k-NN top-1 (k=20, cosine, T=0.07, average-pooled
tokens) and the wall times. Last, it registers the checkpoint in the
user-local model zoo (``$HJEPA_HOME/model-index.yml``) with its sha256 and
k-NN, under the name of the config's zoo entry (``--name`` to choose one,
``--no-register`` to skip), so that
``get_model(NAME, pretrained=True)`` loads it.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time

TOOLS = osp.dirname(osp.abspath(__file__))


def run(args):
    print('+ ' + ' '.join(args), flush=True)
    subprocess.run([sys.executable] + args, check=True)


def evaluate(config, checkpoint, work_dir, name):
    """k-NN metrics (``top1_k<k>``) of a checkpoint, or of ``random``."""
    out = osp.join(work_dir, f'knn_{name}.json')
    run([
        osp.join(TOOLS, 'test.py'), config, checkpoint, '--work-dir',
        osp.join(work_dir, f'eval_{name}'), '--out', out
    ])
    with open(out) as f:
        metrics = json.load(f)['metrics']
    prefix = 'model/knn/'  # both test loops' key for the loaded encoder
    return {
        k[len(prefix):]: v
        for k, v in metrics.items() if k.startswith(prefix)
    }


# The training loop runs slower than the benchmark's bare steps (hooks, the
# online k-NN, checkpoints, a busy machine): 1.23x on two Zen 2 cores (54 min
# for 4 epochs timed at 44) and about 1.13x on Zen 5 (53.4 min for 22 epochs,
# where the benchmark's 0.33 s/step gives 47.2).
MARGIN = 0.8


def fit_epochs(config, work_dir, budget_minutes, amp, margin=MARGIN):
    """Whole epochs of ``config`` that fit ``budget_minutes`` of training
    here, at most the config's own; and the timing they came from.

    The step is timed by ``pretrain_throughput.py`` (10 steps after 5 of
    warm-up, the median); ``margin`` leaves room for what the benchmark
    does not time (hooks, the online k-NN, checkpoints).
    """
    from hjepa.utils import load_config
    from hjepa.utils.config import _epoch_length
    cfg = load_config(config)
    epochs = cfg.train_cfg.get('max_epochs')
    if epochs is None:
        raise ValueError(f'{config}: --budget-minutes needs an epoch-based '
                         f'config (train_cfg.max_epochs); got '
                         f'{dict(cfg.train_cfg)}')
    timing = osp.join(work_dir, 'timing.json')
    run([
        osp.join(TOOLS, 'benchmarks', 'pretrain_throughput.py'), config,
        '--no-peak', '--steps', '10', '--json', timing
    ] + (['--amp'] if amp else []))
    with open(timing) as f:
        s_per_iter = json.load(f)['result']['step_ms'] / 1000
    per_epoch = _epoch_length(cfg) * s_per_iter
    fit = int(budget_minutes * 60 * margin // per_epoch)
    if fit < 1:
        raise RuntimeError(
            f'one epoch of {config} takes ~{per_epoch / 60:.1f} min here '
            f'({s_per_iter:.2f} s/iteration), more than --budget-minutes '
            f'{budget_minutes} allows')
    return min(fit, epochs), dict(
        s_per_iter=s_per_iter,
        config_epochs=epochs,
        minutes_per_epoch=per_epoch / 60)


def loop_pace(fitted: dict, train_seconds: float,
              budget_minutes: float) -> dict:
    """How the training loop kept to the timed step: ``loop_over_timed``,
    its minutes over the timing's minutes for the epochs trained (hooks,
    the online k-NN, checkpoints and start-up included), and
    ``epochs_at_loop_pace``, the whole epochs that the budget holds at the
    loop's own pace (at most the config's): what ``--margin`` could have
    bought on this machine."""
    timed = fitted['epochs'] * fitted['minutes_per_epoch'] * 60
    per_epoch = train_seconds / fitted['epochs']
    return dict(
        loop_over_timed=train_seconds / timed,
        epochs_at_loop_pace=min(
            int(budget_minutes * 60 // per_epoch), fitted['config_epochs']))


def zoo_name(config: str) -> str:
    """The name of the shipped zoo entry (model-index.yml) trained by
    ``config``, else the config's file name without ``.py``. Shipped
    entries only: a user-local one may name a config in another checkout."""
    from hjepa.apis.model_zoo import MODEL_INDEX, read_index
    for entry in read_index(MODEL_INDEX):
        if osp.isfile(entry.config) and osp.samefile(entry.config, config):
            return entry.name
    return osp.splitext(osp.basename(config))[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('config')
    parser.add_argument('--work-dir', default='work_dirs/main_job')
    parser.add_argument('--no-amp', action='store_true')
    parser.add_argument(
        '--budget-minutes',
        type=float,
        default=60,
        help='train for as many whole epochs of the config as fit this '
        'many minutes on this machine (timed first; never more than the '
        'config asks); 0 trains the config as written')
    parser.add_argument(
        '--margin',
        type=float,
        default=MARGIN,
        help='the share of --budget-minutes that the timed steps may fill '
        f'(default {MARGIN}: the loop has run up to 1.23x the timed step; '
        'results.json says how it ran on your machine)')
    parser.add_argument(
        '--name', help='zoo name to register the checkpoint under')
    parser.add_argument('--no-register', action='store_true')
    args = parser.parse_args()
    os.makedirs(args.work_dir, exist_ok=True)

    if args.budget_minutes < 0:
        parser.error(f'--budget-minutes {args.budget_minutes} must be >= 0')
    if not 0 < args.margin <= 1:
        parser.error(f'--margin {args.margin} must be in (0, 1]')
    options, fitted = [], None
    if args.budget_minutes:
        epochs, fitted = fit_epochs(args.config, args.work_dir,
                                    args.budget_minutes, not args.no_amp,
                                    args.margin)
        fitted['epochs'] = epochs
        fitted['margin'] = args.margin
        print(
            f"{fitted['s_per_iter']:.2f} s/iteration here: "
            f"{fitted['config_epochs']} epochs would take "
            f"{fitted['config_epochs'] * fitted['minutes_per_epoch']:.0f}"
            f' min; training {epochs} epochs within the budget of '
            f'{args.budget_minutes:g} min',
            flush=True)
        if epochs < fitted['config_epochs']:
            options = ['--cfg-options', f'train_cfg.max_epochs={epochs}']

    start = time.time()
    run([
        osp.join(TOOLS, 'train.py'), args.config, '--work-dir', args.work_dir
    ] + ([] if args.no_amp else ['--amp']) + options)
    train_seconds = time.time() - start
    if fitted:
        fitted.update(loop_pace(fitted, train_seconds, args.budget_minutes))
        print(
            f"the training loop ran at {fitted['loop_over_timed']:.2f}x the "
            f"timed step; at its pace {fitted['epochs_at_loop_pace']} "
            f'epochs fit {args.budget_minutes:g} min (trained {epochs}; '
            '--margin sets the share of the budget the timing may fill)',
            flush=True)
    with open(osp.join(args.work_dir, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()

    pretrained = evaluate(args.config, checkpoint, args.work_dir, 'pretrained')
    random_init = evaluate(args.config, 'random', args.work_dir, 'random')
    total_seconds = time.time() - start

    results = dict(
        config=args.config,
        checkpoint=checkpoint,
        knn_top1=pretrained['top1_k20'],
        knn_top1_random_init=random_init['top1_k20'],
        knn_pretrained=pretrained,
        knn_random_init=random_init,
        epochs_fitted=fitted,
        train_wall_seconds=round(train_seconds, 1),
        total_wall_seconds=round(total_seconds, 1))
    with open(osp.join(args.work_dir, 'results.json'), 'w') as f:
        json.dump(results, f, indent=2)
    with open(osp.join(args.work_dir, 'results.md'), 'w') as f:
        f.write('| encoder | k-NN top-1 (k=20) | wall time |\n'
                '| --- | --- | --- |\n'
                f'| H-JEPA pretrained ({osp.basename(args.config)}) | '
                f'{pretrained["top1_k20"]:.2f} | '
                f'{train_seconds / 60:.1f} min training |\n'
                f'| randomly initialised, same shape | '
                f'{random_init["top1_k20"]:.2f} | - |\n')
    print(f'\nk-NN top-1 (CIFAR-10 test, k=20): '
          f'{pretrained["top1_k20"]:.2f}% pretrained, '
          f'{random_init["top1_k20"]:.2f}% random init; '
          f'training {train_seconds / 60:.1f} min, '
          f'total {total_seconds / 60:.1f} min')
    print(f'results: {osp.join(args.work_dir, "results.json")}')

    if not args.no_register:
        from hjepa.apis import register_model
        name = args.name or zoo_name(args.config)
        entry = register_model(
            name,
            args.config,
            checkpoint,
            metrics={
                f'k-NN Top 1 (k={k[len("top1_k"):]})': v
                for k, v in pretrained.items() if k.startswith('top1_k')
            },
            overwrite=True)
        print(f'registered {name!r} in {entry.index} (sha256 '
              f'{entry.sha256[:12]}...): get_model({name!r}, '
              'pretrained=True)')


if __name__ == '__main__':
    main()
