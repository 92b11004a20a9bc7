"""CPU inference of an encoder: eager, TorchScript, ONNX Runtime, INT8.

    python tools/benchmarks/deploy_latency.py CONFIG [CKPT] [--threads 2]
    python tools/benchmarks/deploy_latency.py --arch vit-b16-224

Side by side in one run, every row with the same number of threads:
eager fp32 and eager bf16 (``torch.autocast``), both under
``torch.inference_mode``, TorchScript, ONNX Runtime fp32 and ONNX Runtime
INT8 (dynamic quantisation), as ``tools/deployment/export.py`` exports
them (normalisation inside, average-pooled features). For each: latency
of one image (p50 and p95 of ``--repeats`` runs, ms), throughput at batch
``--batch-size`` (images/s, median of ``--batches`` timed batches), the
file size (eager: the encoder's fp32 ``state_dict``), and the parity of
its features with eager fp32 on ``--parity-images`` random 0-255 images
(mean cosine, max abs difference relative to the feature RMS).

``--arch vit-b16-224`` measures an untrained ViT-B/16 at 224 px
(``configs/hjepa/vit-b_in1k.py``) instead of CONFIG. Without CKPT the
config's model is measured with initial weights (speed does not depend on
them; parity does a little). k-NN accuracy of the exports comes from
``tools/deployment/verify.py``.
"""
import argparse
import os
import os.path as osp
import statistics
import sys
import tempfile
import time

import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)

ARCHS = {'vit-b16-224': 'configs/hjepa/vit-b_in1k.py'}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Encoder inference latency and throughput on the CPU')
    parser.add_argument('config', nargs='?', help='the model config')
    parser.add_argument('checkpoint', nargs='?', help='its checkpoint')
    parser.add_argument(
        '--arch',
        choices=sorted(ARCHS),
        help='an untrained reference model instead of CONFIG')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument(
        '--repeats', type=int, default=100, help='timed batch-1 runs')
    parser.add_argument(
        '--batches', type=int, default=10, help='timed large batches')
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument('--parity-images', type=int, default=100)
    parser.add_argument(
        '--work-dir', help='where the exports go (default: a temporary dir)')
    args = parser.parse_args(argv)
    if (args.config is None) == (args.arch is None):
        parser.error('give CONFIG [CKPT] or --arch, not both or neither')
    if args.arch and args.checkpoint:
        parser.error(f'--arch {args.arch} measures an untrained model; '
                     f'checkpoint {args.checkpoint} cannot go with it')
    for name in ('threads', 'repeats', 'batches', 'batch_size', 'warmup',
                 'parity_images'):
        if getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} '
                         f'{getattr(args, name)} must be >= 1')
    return args


def eager_runner(module, bf16: bool):
    """``module`` under inference mode, in bf16 autocast when asked."""

    def run(x: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode(), torch.autocast(
                'cpu', torch.bfloat16, enabled=bf16):
            return module(x).float()

    return run


def timed(run, x: torch.Tensor, repeats: int, warmup: int) -> list:
    """Seconds of each of ``repeats`` runs after ``warmup`` ones."""
    for _ in range(warmup):
        run(x)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(x)
        times.append(time.perf_counter() - start)
    return times


def measure(run, args, shape) -> dict:
    gen = torch.Generator().manual_seed(0)
    one = torch.rand((1, ) + shape, generator=gen) * 255
    batch = torch.rand((args.batch_size, ) + shape, generator=gen) * 255
    lat = sorted(timed(run, one, args.repeats, args.warmup))
    thr = timed(run, batch, args.batches, 1)
    p95 = lat[min(len(lat) - 1, round(0.95 * (len(lat) - 1)))]
    return dict(
        p50=1e3 * statistics.median(lat),
        p95=1e3 * p95,
        ips=args.batch_size / statistics.median(thr))


def parity(run, ref: torch.Tensor, images: torch.Tensor) -> dict:
    from tools.deployment.exporter import compare
    c = compare(ref, torch.cat([run(x) for x in images.split(25)]))
    return dict(cos=c['cos'], rel=c['rel_max'])


def main(argv=None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    if args.work_dir:
        os.makedirs(args.work_dir, exist_ok=True)
        benchmark(args, args.work_dir)
    else:
        with tempfile.TemporaryDirectory(prefix='deploy_latency_') as tmp:
            benchmark(args, tmp)


def benchmark(args, work_dir: str) -> None:
    """Export into ``work_dir``, measure every backend, print the table."""
    from hjepa.apis import get_model
    from tools.benchmarks.pretrain_throughput import machine
    from tools.deployment.exporter import (ExportedModel, build_exportable,
                                           deploy_settings, export)
    config = osp.join(REPO, ARCHS[args.arch]) if args.arch else args.config
    model = get_model(config, checkpoint=args.checkpoint)
    module = build_exportable(model, 'target', 'avg')
    size = tuple(module.encoder.img_size)
    shape = (3, ) + size
    files = {}
    for fmt, name in (('torchscript', 'encoder.pt'), ('onnx', 'encoder.onnx'),
                      ('onnx-int8', 'encoder_int8.onnx')):
        settings = deploy_settings(None, fmt, input_size=size)
        files[fmt] = osp.join(work_dir, name)
        export(model, settings, files[fmt], config, args.checkpoint)
    eager_file = osp.join(work_dir, 'encoder_state_dict.pth')
    torch.save(module.encoder.state_dict(), eager_file)
    del model

    gen = torch.Generator().manual_seed(1)
    images = torch.rand((args.parity_images, ) + shape, generator=gen) * 255
    fp32 = eager_runner(module, bf16=False)
    ref = torch.cat([fp32(x) for x in images.split(25)])

    info = machine()
    import onnxruntime
    print(f"CPU: {info['cpu']} ({', '.join(info['features']) or 'none'}), "
          f"{info['cores']} cores; {args.threads} threads for every row; "
          f'torch {torch.__version__}, onnxruntime {onnxruntime.__version__}')
    print(f'model: {args.arch or config} '
          f"({'untrained' if args.checkpoint is None else args.checkpoint}), "
          f'target encoder, {module.encoder.num_layers} blocks x '
          f'{module.encoder.embed_dims}, input 3x{size[0]}x{size[1]} '
          f'(0-255, normalised inside), avg-pooled')
    rows = [('eager fp32', lambda: fp32, eager_file),
            ('eager bf16', lambda: eager_runner(module, bf16=True), eager_file)
            ]
    for label, fmt in (('TorchScript', 'torchscript'), ('ORT fp32', 'onnx'),
                       ('ORT INT8', 'onnx-int8')):
        rows.append((label, lambda fmt=fmt: ExportedModel(
            files[fmt], threads=args.threads, batch_size=args.batch_size),
                     files[fmt]))
    results = []
    for label, make, path in rows:
        run = make()  # one backend loaded at a time
        r = dict(label=label, mb=osp.getsize(path) / 2**20)
        r.update(measure(run, args, shape))
        r.update(parity(run, ref, images))
        results.append(r)
        del run
    base = results[0]['ips']
    head = (f"{'backend':<12} {'size MB':>8} {'b1 p50 ms':>10} "
            f"{'b1 p95 ms':>10} {f'b{args.batch_size} img/s':>11} "
            f"{'x eager':>8} {'cos':>9} {'rel max|d|':>10}")
    print(head)
    print('-' * len(head))
    for r in results:
        print(f"{r['label']:<12} {r['mb']:>8.2f} {r['p50']:>10.2f} "
              f"{r['p95']:>10.2f} {r['ips']:>11.1f} {r['ips'] / base:>8.2f} "
              f"{r['cos']:>9.6f} {r['rel']:>10.2e}")
    print(f'parity: {args.parity_images} random 0-255 images vs eager fp32; '
          f'latency: {args.repeats} runs of 1 image; throughput: median of '
          f'{args.batches} batches of {args.batch_size}')


if __name__ == '__main__':
    main()
