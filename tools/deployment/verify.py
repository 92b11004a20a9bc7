"""Check exported encoders against eager PyTorch on real CIFAR-10 images.

    python tools/deployment/verify.py CONFIG CKPT m.pt m.onnx m_int8.onnx

For every export: the embeddings of ``--num-images`` test images (evenly
spread over the query set) against the eager model's (max abs difference
relative to the RMS of the eager features, mean and minimum cosine), and
the k-NN protocol (k=20, T=0.07; bank: training images, queries: test
images) run on the export's features against the eager ones. Prints a
table; exits 1 if any export is outside its tolerance:

- fp32 (``torchscript``, ``onnx``): relative max abs difference <=
  ``--rtol`` (1e-4), minimum cosine >= ``--min-cos`` (0.9999), k-NN top-1
  within ``--knn-tol`` (0.2 points) of eager;
- ``onnx-int8``: mean cosine >= ``--int8-min-cos`` (0.99), k-NN top-1 at
  most ``--int8-knn-drop`` (1.0 point) below eager.
"""
import argparse
import os.path as osp
import sys
from typing import Optional

import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)

from tools.deployment.exporter import ExportedModel, compare  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Exported encoders vs eager PyTorch on CIFAR-10')
    parser.add_argument('config', help='the model config')
    parser.add_argument('checkpoint', help='the checkpoint that was exported')
    parser.add_argument('exported', nargs='+', help='.pt / .onnx exports')
    parser.add_argument(
        '--data-root', help='CIFAR-10 root (default: the config\'s)')
    parser.add_argument(
        '--num-images',
        type=int,
        default=1000,
        help='test images of the embedding comparison')
    parser.add_argument(
        '--bank-size',
        type=int,
        help='training images of the k-NN bank '
        '(default: all)')
    parser.add_argument(
        '--query-size',
        type=int,
        help='test images the k-NN classifies '
        '(default: all)')
    parser.add_argument('--rtol', type=float, default=1e-4)
    parser.add_argument('--min-cos', type=float, default=0.9999)
    parser.add_argument('--knn-tol', type=float, default=0.2)
    parser.add_argument('--int8-min-cos', type=float, default=0.99)
    parser.add_argument('--int8-knn-drop', type=float, default=1.0)
    parser.add_argument('--threads', type=int, default=2)
    args = parser.parse_args(argv)
    for name in ('num_images', 'bank_size', 'query_size', 'threads'):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ValueError(f'--{name.replace("_", "-")} {value} must be '
                             '>= 1')
    return args


def load_split(root: str, split: str, size: Optional[int]):
    """uint8 images [N, 3, H, W] and labels [N] of a CIFAR-10 split."""
    from hjepa.datasets import InMemoryImageFolder
    if not osp.isdir(osp.join(root, split)):
        raise FileNotFoundError(
            f'no {split} split under {root}: run `make data` (or '
            'tools/dataset_converters/prepare_cifar10.py) first')
    ds = InMemoryImageFolder(root, split, max_samples=size)
    return ds.images, torch.as_tensor(ds.labels)


@torch.inference_mode()
def eager_features(model,
                   images: torch.Tensor,
                   encoder: str,
                   pooling: str,
                   batch_size: int = 256) -> torch.Tensor:
    """Eager fp32 features as the protocols compute them."""
    from hjepa.evaluation.features import encode
    outs = []
    for x in images.split(batch_size):
        data = model.data_preprocessor(dict(inputs=x), False)
        outs.append(encode(model, data['inputs'], encoder, pooling).float())
    return torch.cat(outs)


def knn_top1(bank, bank_labels, queries, query_labels) -> float:
    from hjepa.evaluation.knn import knn_accuracy
    if bank.ndim == 3:  # tokens [N, L, D]: their average, as `avg`
        bank, queries = bank.mean(1), queries.mean(1)
    return knn_accuracy(bank, bank_labels, queries, query_labels, (20, ),
                        0.07)['top1_k20']


def check(row: dict, args) -> list:
    """The tolerances a row fails."""
    failed = []
    if row['format'] == 'onnx-int8':
        if not row['cos'] >= args.int8_min_cos:
            failed.append(f"mean cos {row['cos']:.6f} < {args.int8_min_cos}")
        if not row['knn_delta'] >= -args.int8_knn_drop:
            failed.append(f"k-NN {row['knn_delta']:+.2f} < "
                          f'-{args.int8_knn_drop}')
        return failed
    if not row['rel_max'] <= args.rtol:
        failed.append(f"rel max|d| {row['rel_max']:.2e} > {args.rtol:g}")
    if not row['min_cos'] >= args.min_cos:
        failed.append(f"min cos {row['min_cos']:.6f} < {args.min_cos}")
    if not abs(row['knn_delta']) <= args.knn_tol:
        failed.append(f"|k-NN delta| {abs(row['knn_delta']):.2f} > "
                      f'{args.knn_tol}')
    return failed


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    from mmengine.config import Config

    from hjepa.apis import get_model
    exports = [ExportedModel(p, threads=args.threads) for p in args.exported]
    root = args.data_root or Config.fromfile(
        args.config).test_dataloader.dataset.data_root
    bank, bank_labels = load_split(root, 'train', args.bank_size)
    queries, query_labels = load_split(root, 'test', args.query_size)
    n = min(args.num_images, len(queries))
    parity_idx = torch.linspace(0, len(queries) - 1, n).long()
    model = get_model(args.config, checkpoint=args.checkpoint)
    print(f'{len(bank)} bank (train) and {len(queries)} query (test) images '
          f'of {root}; embeddings compared on {n} test images; '
          f'{args.threads} threads')

    eager = {}
    rows = []
    for exp in exports:
        key = (exp.meta['encoder'], exp.meta['pooling'])
        if tuple(queries.shape[-2:]) != exp.input_size:
            raise ValueError(f'{exp.path} takes {exp.input_size} images; '
                             f'the data are {tuple(queries.shape[-2:])}')
        if key not in eager:
            ref_bank = eager_features(model, bank, *key)
            ref_q = eager_features(model, queries, *key)
            eager[key] = (ref_bank, ref_q,
                          knn_top1(ref_bank, bank_labels, ref_q, query_labels))
        ref_bank, ref_q, ref_knn = eager[key]
        out_bank, out_q = exp(bank), exp(queries)
        row = dict(
            path=exp.path,
            format=exp.meta['format'],
            encoder=key[0],
            pooling=key[1],
            knn_eager=ref_knn,
            **compare(ref_q[parity_idx], out_q[parity_idx]))
        row['knn'] = knn_top1(out_bank, bank_labels, out_q, query_labels)
        row['knn_delta'] = row['knn'] - ref_knn
        row['failed'] = check(row, args)
        rows.append(row)

    header = (f"{'export':<32} {'format':<11} {'enc/pool':<12} "
              f"{'rel max|d|':>10} {'mean cos':>9} {'min cos':>9} "
              f"{'kNN eager':>9} {'kNN exp':>8} {'delta':>6}  result")
    print(header)
    print('-' * len(header))
    for r in rows:
        name = osp.basename(r['path'])
        print(f"{name[-32:]:<32} {r['format']:<11} "
              f"{r['encoder'] + '/' + r['pooling']:<12} "
              f"{r['rel_max']:>10.2e} {r['cos']:>9.6f} {r['min_cos']:>9.6f} "
              f"{r['knn_eager']:>9.2f} {r['knn']:>8.2f} "
              f"{r['knn_delta']:>+6.2f}  "
              f"{'FAIL: ' + '; '.join(r['failed']) if r['failed'] else 'ok'}")
    bad = [r for r in rows if r['failed']]
    if bad:
        print(f'{len(bad)} of {len(rows)} exports outside tolerance')
        return 1
    print(f'all {len(rows)} exports within tolerance')
    return 0


if __name__ == '__main__':
    sys.exit(main())
