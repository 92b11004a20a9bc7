"""The main job (``make train``): pretrain a config, then score it by k-NN.

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
        '--name', help='zoo name to register the checkpoint under')
    parser.add_argument('--no-register', action='store_true')
    args = parser.parse_args()
    os.makedirs(args.work_dir, exist_ok=True)

    start = time.time()
    run([
        osp.join(TOOLS, 'train.py'), args.config, '--work-dir', args.work_dir
    ] + ([] if args.no_amp else ['--amp']))
    train_seconds = time.time() - start
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
