"""List the model zoo, or register a checkpoint you trained in it.

    python tools/model_zoo.py list [PATTERN]
    python tools/model_zoo.py register hjepa_vit-tiny-d6-p4_cifar10 \
        configs/hjepa/hjepa_vit-tiny-d6-p4_1xb128-22e_cifar10.py \
        work_dirs/main_job/epoch_22.pth --metric "k-NN Top 1 (k=20)=55.79"

A registered checkpoint goes into ``$HJEPA_HOME/model-index.yml``
(``~/.cache/hjepa``) with its sha256; then
``hjepa.apis.get_model(NAME, pretrained=True)`` loads it.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args():
    parser = argparse.ArgumentParser(description='The H-JEPA model zoo')
    sub = parser.add_subparsers(dest='command', required=True)
    ls = sub.add_parser('list', help='list the models')
    ls.add_argument('pattern', nargs='?', help="e.g. 'hjepa_*cifar10'")
    reg = sub.add_parser(
        'register', help='add a checkpoint to the user-'
        'local index')
    reg.add_argument('name', help='model name (may hide a shipped one)')
    reg.add_argument('config', help='the config it was trained with')
    reg.add_argument('checkpoint', help='the checkpoint file')
    reg.add_argument(
        '--metric',
        action='append',
        default=[],
        metavar='NAME=VALUE',
        help='a metric measured for it (repeatable)')
    reg.add_argument(
        '--force', action='store_true', help='replace an entry of that name')
    return parser.parse_args()


def _metrics(pairs):
    metrics = {}
    for pair in pairs:
        name, sep, value = pair.rpartition('=')
        try:
            metrics[name] = float(value)
        except ValueError:
            sep = ''
        if not sep or not name:
            raise SystemExit(f'error: --metric {pair!r} must be NAME=NUMBER')
    return metrics


def main():
    args = parse_args()
    from hjepa.apis import list_models
    from hjepa.apis.model_zoo import model_entries, user_index_path
    if args.command == 'list':
        entries = model_entries()
        for name in list_models(args.pattern):
            entry = entries[name]
            weights = entry.weights or 'no weights published'
            print(f'{name}\n  config:  {entry.config}\n  weights: {weights}')
            for metric, value in entry.metrics.items():
                print(f'  {metric}: {value}')
        return
    from hjepa.apis import register_model
    from hjepa.utils.checkpoint import CheckpointError
    try:
        entry = register_model(args.name, args.config, args.checkpoint,
                               _metrics(args.metric), args.force)
    except (ValueError, FileNotFoundError, CheckpointError) as e:
        raise SystemExit(f'error: {e}')
    print(f'registered {entry.name} in {user_index_path()}\n'
          f'  weights: {entry.weights}\n  sha256:  {entry.sha256}')


if __name__ == '__main__':
    main()
