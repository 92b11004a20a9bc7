"""Model FLOP utilisation of H-JEPA pretraining on a bare GPU machine.

For a machine that has torch and nothing else (no mmcv, mmpretrain, mmdet,
OpenCV, data set or network): it imports torch and ``hjepa.models`` only,
with ``hjepa.models``' own dependencies (mmengine and the small packages it
imports, see ``CARRIED``) carried along as wheels that
``bare_gpu_pack.py`` downloads here and ``--wheels`` unpacks there. It
builds the ViT-B/16 H-JEPA of ``configs/_base_/models/hjepa_vit-base-p16.py``
at 224 px (the hierarchical head, or ``--levels 1`` for I-JEPA's), trains
it on seeded random images with bf16 autocast and ``torch.compile`` of
every transformer block (the ``compile=True`` of the model), and prints
images/s, the model FLOPs of a step (counted on the eager model,
forward and backward), the model FLOP/s reached and their fraction of the
card's dense bf16 peak (MFU), beside the bf16 matmul peak measured on the
card, with the torch version it ran. A step is what the runner does:
masks, forward, backward, fused AdamW on two parameter groups, EMA.

    # here, where PyPI can be reached
    python tools/benchmarks/bare_gpu_pack.py --python-version 3.12 \\
        --out work_dirs/bare_wheels
    # on the GPU machine, in a copy of the repository
    python tools/benchmarks/bare_gpu_mfu.py --wheels work_dirs/bare_wheels \\
        [--batch 128] [--steps 20] [--no-compile] [--json OUT]
"""
import argparse
import glob
import json
import os
import os.path as osp
import statistics
import sys
import tempfile
import time
import zipfile

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MODEL_CONFIG = osp.join(REPO, 'configs', '_base_', 'models',
                        'hjepa_vit-base-p16.py')
#: What ``import hjepa.models`` needs beyond torch and the standard library
#: (distribution names; ``bare_gpu_pack.py`` downloads these wheels).
CARRIED = ('mmengine', 'addict', 'numpy', 'pyyaml', 'rich', 'markdown-it-py',
           'mdurl', 'pygments', 'termcolor', 'yapf', 'platformdirs',
           'packaging')
#: Import names of ``CARRIED``.
CARRIED_MODULES = ('mmengine', 'addict', 'numpy', 'yaml', '_yaml', 'rich',
                   'markdown_it', 'mdurl', 'pygments', 'termcolor', 'yapf',
                   'yapf_third_party', 'platformdirs', 'packaging')
#: Packages the bare machine does not have; none may be imported.
ABSENT = ('mmcv', 'mmpretrain', 'mmdet', 'mmseg', 'cv2', 'matplotlib', 'timm',
          'torchvision', 'PIL')
#: Dense (no sparsity) bf16 tensor-core peaks, TFLOP/s, by a name
#: fragment; the first match wins, so longer names come first.
BF16_PEAK_TFLOPS = (
    ('H100 PCIe', 756.0),
    ('H100 NVL', 835.0),
    ('H200', 989.4),
    ('GH200', 989.4),
    ('H100', 989.4),
    ('B200', 2250.0),
    ('A100', 312.0),
    ('L40S', 362.1),
    ('L40', 181.0),
    ('L4', 121.0),
    ('A10', 125.0),
)


def unpack_wheels(folder: str) -> str:
    """Unpack every wheel in ``folder`` into a new directory and put it
    last on ``sys.path`` (what the machine has comes first); its path."""
    wheels = sorted(glob.glob(osp.join(folder, '*.whl')))
    if not wheels:
        raise FileNotFoundError(
            f'--wheels {folder}: no .whl files there (make them with '
            'tools/benchmarks/bare_gpu_pack.py)')
    site = tempfile.mkdtemp(prefix='hjepa_bare_site_')
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as zf:
            zf.extractall(site)
    sys.path.append(site)
    return site


def card_peak(name: str):
    """The dense bf16 peak of a GPU in FLOP/s, from its name (None when
    the name is not in ``BF16_PEAK_TFLOPS``)."""
    for fragment, tflops in BF16_PEAK_TFLOPS:
        if fragment.lower() in name.lower():
            return tflops * 1e12
    return None


def build(args, device):
    """The model of ``MODEL_CONFIG`` at ``args``' size, and its
    optimizer (fused AdamW, decay and no-decay groups)."""
    import torch
    from mmengine.config import Config

    import hjepa.models  # noqa: F401  (registers the components)
    from hjepa.registry import MODELS
    cfg = Config.fromfile(MODEL_CONFIG).model
    cfg.backbone.update(
        arch=dict(name=args.arch),
        img_size=args.img_size,
        patch_size=args.patch_size)
    if args.predictor_layers:
        cfg.predictor.num_layers = args.predictor_layers
    if args.grouped_attention:
        cfg.predictor.grouped_attention = True
    if args.levels == '1':
        cfg.predictor.multiway = False  # no query tokens to give weights
        cfg.head.update(levels=[dict(kind='patch')], level_weights=(1.0, ))
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    model.to(device).train()
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        dict(params=[p for p in params if p.ndim > 1], weight_decay=0.04),
        dict(params=[p for p in params if p.ndim <= 1], weight_decay=0.0)
    ]
    optimizer = torch.optim.AdamW(groups, lr=1e-4, fused=True)
    return model, optimizer


def main(args) -> dict:
    if args.wheels:
        unpack_wheels(args.wheels)
    if REPO not in sys.path:
        sys.path.insert(0, REPO)
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
    from pretrain_throughput import (machine, matmul_peak, sync,
                                     synthetic_batches)

    # env_cfg.cudnn_benchmark of a config: cuDNN times its convolution
    # kernels (the patch embedding) once per shape
    torch.backends.cudnn.benchmark = args.cudnn_benchmark
    device = args.device
    if device == 'auto':
        device = 'cuda' if torch.cuda.is_available() else 'cpu'
    if device == 'cuda' and not torch.cuda.is_available():
        raise RuntimeError('--device cuda but torch sees no GPU')
    amp = not args.no_amp

    model, optimizer = build(args, device)
    # what hjepa.models and the model's construction imported; torch may
    # import torchvision later by itself where it is installed
    absent = sorted(m for m in ABSENT if m in sys.modules)
    batches = [
        dict(b, inputs=b['inputs'].to(device))
        for b in synthetic_batches(args.batch, args.img_size, num=2)
    ]

    def forward_backward(batch):
        with torch.autocast(device, dtype=torch.bfloat16, enabled=amp):
            data = model.data_preprocessor(batch, True)
            losses = model(**data, mode='loss')
        loss, _ = model.parse_losses(losses)
        loss.backward()
        return loss

    def step(i):
        forward_backward(batches[i % len(batches)])
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        model.update_target_encoder(0.996)

    # model FLOPs of a step, eager (a compiled block hides its ops)
    with FlopCounterMode(display=False) as counter:
        for i in range(args.flop_steps):
            forward_backward(batches[i % len(batches)])
    optimizer.zero_grad(set_to_none=True)
    flops = counter.get_total_flops() / args.flop_steps

    if not args.no_compile:
        model.compile_blocks()
    if device == 'cuda':
        torch.cuda.reset_peak_memory_stats()
    t = time.perf_counter()
    for i in range(args.warmup):
        step(i)
    sync()
    warmup_s = time.perf_counter() - t
    times = []
    for i in range(args.steps):
        t = time.perf_counter()
        step(i)
        sync()
        times.append(time.perf_counter() - t)
    step_s = statistics.median(times)

    info = machine()
    name = info.get('gpu', info['cpu'])
    peak = args.peak_tflops * 1e12 if args.peak_tflops else (
        card_peak(name) if device == 'cuda' else None)
    measured = None if args.no_peak else matmul_peak(
        torch.bfloat16, sizes=tuple(args.peak_sizes))
    achieved = flops / step_s
    later = sorted(m for m in ABSENT if m in sys.modules and m not in absent)
    prof = profile_steps(step, args.profile_steps) if args.profile else None
    result = dict(
        device=name,
        torch=torch.__version__,
        cuda=torch.version.cuda,
        python=sys.version.split()[0],
        arch=args.arch,
        img_size=args.img_size,
        patch_size=args.patch_size,
        levels=model.num_levels,
        grouped_attention=model.predictor.grouped_attention,
        cudnn_benchmark=args.cudnn_benchmark,
        batch=args.batch,
        amp=amp,
        compile=not args.no_compile,
        steps=args.steps,
        warmup_s=warmup_s,
        step_ms=1000 * step_s,
        step_ms_all=[1000 * t for t in times],
        images_per_s=args.batch / step_s,
        gflop_per_step=flops / 1e9,
        model_tflops=achieved / 1e12,
        card_bf16_peak_tflops=peak and peak / 1e12,
        mfu=peak and achieved / peak,
        matmul_bf16_peak_tflops=measured and measured / 1e12,
        fraction_of_matmul_peak=measured and achieved / measured,
        peak_gpu_gb=(torch.cuda.max_memory_allocated() /
                     2**30 if device == 'cuda' else None),
        imported_absent_packages=absent,
        imported_later_by_torch=later,
        profile=prof)
    print(f"{name}, torch {result['torch']} (CUDA {result['cuda']}), "
          f"Python {result['python']}")
    print(f"ViT-{args.arch}/{args.patch_size} at {args.img_size} px, "
          f'{result["levels"]} level(s), batch {args.batch}, '
          f"{'bf16 autocast' if amp else 'fp32'}"
          f"{', compiled' if result['compile'] else ''}: "
          f"{result['images_per_s']:.1f} images/s (step "
          f"{result['step_ms']:.1f} ms, median of {args.steps}; warm-up "
          f'{warmup_s:.0f} s)')
    line = (f"model: {result['gflop_per_step']:.0f} GFLOP/step, "
            f"{result['model_tflops']:.1f} TFLOP/s")
    if peak:
        line += (f'; MFU {100 * result["mfu"]:.1f}% of the dense bf16 '
                 f'peak {peak / 1e12:.0f} TFLOP/s')
    else:
        line += '; MFU: the card\'s peak is unknown (pass --peak-tflops)'
    if measured:
        line += (f'; {100 * result["fraction_of_matmul_peak"]:.1f}% of '
                 f'the measured bf16 matmul peak {measured / 1e12:.0f} '
                 'TFLOP/s')
    print(line)
    if result['peak_gpu_gb'] is not None:
        print(f"peak GPU memory {result['peak_gpu_gb']:.2f} GB")
    if prof:
        print(f"profile of {args.profile_steps} steps: {prof['wall_ms']:.1f} "
              f"ms per step, device busy {prof['device_busy_ms']:.1f} ms "
              '(aten ops\' kernels)')
        for title, key in (('device', 'top_device'), ('CPU', 'top_cpu')):
            print(f'  top self {title} time (ms per step, calls per step):')
            for name, ms, calls in prof[key]:
                print(f'    {ms:8.2f} {calls:6d}  {name[:90]}')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=1)
    if absent:
        # torch 2.11 on an H200 machine that has torchvision imported it
        # and PIL during the build; tests/test_tools/test_bare_gpu_mfu.py
        # shows the harness runs with them unimportable
        print(f'imported {absent}, installed on this machine (the harness '
              'runs without them: tests/test_tools/test_bare_gpu_mfu.py)')
    return result


def profile_steps(step, steps: int) -> dict:
    """Wall time, device busy time and the top ops by self device and
    self CPU time, per step, over ``steps`` profiled steps."""
    import torch
    from pretrain_throughput import sync
    from torch.profiler import ProfilerActivity, profile
    activities = [ProfilerActivity.CPU]
    if torch.cuda.is_available():
        activities.append(ProfilerActivity.CUDA)
    sync()
    t = time.perf_counter()
    with profile(activities=activities) as prof:
        for i in range(steps):
            step(i)
        sync()
    wall = (time.perf_counter() - t) / steps
    events = prof.key_averages()

    def device_ms(ev):
        return getattr(ev, 'self_device_time_total',
                       getattr(ev, 'self_cuda_time_total', 0)) / 1e3 / steps

    def rows(key):
        top = sorted(events, key=key, reverse=True)[:15]
        return [(ev.key, key(ev), ev.count // steps) for ev in top]

    return dict(
        wall_ms=1000 * wall,
        device_busy_ms=sum(
            device_ms(ev) for ev in events if ev.key.startswith('aten::')),
        top_device=rows(device_ms),
        top_cpu=rows(lambda ev: ev.self_cpu_time_total / 1e3 / steps))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument(
        '--wheels',
        help='folder of the wheels bare_gpu_pack.py downloaded; unpacked '
        'and put first on sys.path')
    parser.add_argument(
        '--device', default='auto', choices=['auto', 'cuda', 'cpu'])
    parser.add_argument('--arch', default='base')
    parser.add_argument('--img-size', type=int, default=224)
    parser.add_argument('--patch-size', type=int, default=16)
    parser.add_argument(
        '--predictor-layers',
        type=int,
        help='predictor depth (default: the config\'s, 12)')
    parser.add_argument(
        '--levels', default='hierarchy', choices=['hierarchy', '1'])
    parser.add_argument(
        '--cudnn-benchmark',
        action='store_true',
        help='torch.backends.cudnn.benchmark (env_cfg.cudnn_benchmark)')
    parser.add_argument(
        '--grouped-attention',
        action='store_true',
        help='the predictor attends group by group (grouped_attention=True) '
        'instead of through its [L, L] mask')
    parser.add_argument('--batch', type=int, default=128)
    parser.add_argument('--steps', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument('--flop-steps', type=int, default=2)
    parser.add_argument(
        '--profile',
        action='store_true',
        help='profile --profile-steps more steps: top ops by device and '
        'CPU time')
    parser.add_argument('--profile-steps', type=int, default=3)
    parser.add_argument('--no-amp', action='store_true')
    parser.add_argument('--no-compile', action='store_true')
    parser.add_argument(
        '--no-peak',
        action='store_true',
        help='skip measuring the bf16 matmul peak')
    parser.add_argument(
        '--peak-sizes', nargs='+', type=int, default=[4096, 8192])
    parser.add_argument(
        '--peak-tflops',
        type=float,
        help="the card's dense bf16 peak, where its name is not known")
    parser.add_argument('--json', help='write the result here')
    args = parser.parse_args(argv)
    for name in ('batch', 'steps', 'warmup', 'flop_steps'):
        if getattr(args, name) < 1:
            raise SystemExit(f'--{name.replace("_", "-")} must be >= 1, got '
                             f'{getattr(args, name)}')
    return args


if __name__ == '__main__':
    os.environ.setdefault('TORCHINDUCTOR_CACHE_DIR',
                          osp.join(tempfile.gettempdir(), 'hjepa_inductor'))
    main(parse_args())
