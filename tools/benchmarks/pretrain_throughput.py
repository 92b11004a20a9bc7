"""Pretraining throughput of a config, on the machine it runs on.

Prints what it ran on (CPU model and its matrix/vector features, or the
GPU), images/s of full training steps (data, masks, forward, backward,
optimizer, EMA; median of the timed steps), model FLOPs, the model FLOP/s
reached as a fraction of this machine's measured matmul peak (fp32 and
bf16, median of repeated timed blocks at several sizes, with the threads of
the run), peak memory, the share of step time spent loading data and
sampling masks, a torch-profiler split of step time (matmul, attention,
elementwise, optimizer), and the fp32 loss of a fixed batch from a fixed
initial state.

Side by side: ``--baseline-options`` runs the same config (or
``--baseline-config``) with other options, ``--baseline-commit`` runs a
pinned commit of this repository (checked out in a git worktree, its own
configs and code), in the same
invocation, alternating rounds; it prints the speed ratio and whether the
fixed-batch fp32 losses agree (the baseline's initial weights are loaded
into the candidate, through the checkpoint key migration).

    python tools/benchmarks/pretrain_throughput.py CONFIG [--amp] \\
        [--compile] [--cfg-options k=v ...] [--steps N] [--profile] \\
        [--baseline-commit SHA | --baseline-options k=v ...] [--json OUT]
"""
import argparse
import json
import os
import os.path as osp
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CPU_FEATURES = ('amx_tile', 'amx_bf16', 'amx_int8', 'avx512_bf16',
                'avx512_vnni', 'avx512f', 'avx2', 'fma')


def machine(cpuinfo: str = '/proc/cpuinfo') -> dict:
    """The CPU (model, features, cores) and GPU this runs on."""
    import torch
    info = dict(
        cpu=platform.processor() or platform.machine(),
        cores=os.cpu_count(),
        threads=torch.get_num_threads(),
        torch=torch.__version__,
        features=[])
    try:
        with open(cpuinfo) as f:
            text = f.read()
        fields = {}
        for line in text.splitlines():
            key, _, value = line.partition(':')
            fields.setdefault(key.strip(), value.strip())
            if key.startswith('flags'):
                flags = set(value.split())
                info['features'] = [f for f in CPU_FEATURES if f in flags]
                break
        if 'model name' in fields:
            info['cpu'] = fields['model name']
        # virtual machines often report a bare 'AMD EPYC': the family and
        # model tell the generations apart (AMD 23/49 is Zen 2, 25/1 Zen 3)
        if 'cpu family' in fields and 'model' in fields:
            info['cpu'] += (f" (family {fields['cpu family']}, "
                            f"model {fields['model']})")
    except OSError:
        pass
    if torch.cuda.is_available():
        info['gpu'] = torch.cuda.get_device_name()
    return info


def matmul_peak(dtype, sizes=(512, 1024, 2048), reps=7) -> float:
    """Best over sizes of the median FLOP/s of timed blocks of n^3 matmuls.

    Each block multiplies enough times to run ~0.1 s; the median of
    ``reps`` blocks resists a noisy neighbour better than the best single
    call.
    """
    import torch
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    best = 0.0
    for n in sizes:
        a = torch.randn(n, n, dtype=dtype, device=device)
        b = torch.randn(n, n, dtype=dtype, device=device)
        a @ b
        t = time.perf_counter()
        a @ b
        sync()
        per = max(time.perf_counter() - t, 1e-6)
        if per > 0.5:  # no fast kernel for this dtype: one call says so
            best = max(best, 2 * n**3 / per)
            break
        inner = max(1, int(0.1 / per))
        rates = []
        for _ in range(reps):
            t = time.perf_counter()
            for _ in range(inner):
                a @ b
            sync()
            rates.append(2 * n**3 * inner / (time.perf_counter() - t))
        best = max(best, statistics.median(rates))
    return best


def sync():
    import torch
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def build(args):
    """Runner pieces for timed steps: model, optimizer wrapper, batches."""
    import torch
    from mmengine.runner import Runner

    from hjepa.utils import apply_amp, load_config, register_all_modules
    register_all_modules()
    cfg = load_config(args.config, args.cfg_options,
                      tempfile.mkdtemp(prefix='hjepa_benchmark_'))
    if args.amp:
        # what the step really runs: fp32 on a CPU without bf16 kernels
        # (read from the wrapper: an older commit's apply_amp, run as a
        # baseline, returns None whatever it chose)
        apply_amp(cfg)
        args.amp = cfg.optim_wrapper.get('type') in ('AmpOptimWrapper',
                                                     'AutocastOptimWrapper')
    if args.compile:
        cfg.model.compile = True
    cfg.log_level = 'WARNING'
    cfg.visualizer.vis_backends = [dict(type='LocalVisBackend')]
    torch.manual_seed(0)
    runner = Runner.from_cfg(cfg)
    model = runner.model
    torch.manual_seed(0)
    model.init_weights()
    optim = runner.build_optim_wrapper(cfg.optim_wrapper)
    if args.image_size:  # random images: no data set needed
        built_for = tuple(model.backbone.img_size)
        if built_for != (args.image_size, ) * 2:
            raise ValueError(
                f'--image-size {args.image_size} but the model is built for '
                f'{built_for} (its masks and position embeddings follow '
                'that); set model.backbone.img_size to match')
        loader = synthetic_batches(cfg.train_dataloader.batch_size,
                                   args.image_size)
    else:
        loader = runner.build_dataloader(cfg.train_dataloader)
    return cfg, model, optim, loader


def synthetic_batches(batch_size: int, size: int, num: int = 4) -> list:
    """``num`` batches of seeded random uint8 images ``size`` x ``size``
    and zero labels, as the in-memory loaders give them."""
    import torch
    gen = torch.Generator().manual_seed(0)
    return [
        dict(
            inputs=torch.randint(
                0,
                256, (batch_size, 3, size, size),
                dtype=torch.uint8,
                generator=gen),
            data_samples=torch.zeros(batch_size, dtype=torch.long))
        for _ in range(num)
    ]


def fixed_batch_loss(model, batch, init_state=None) -> float:
    """fp32 loss of ``batch`` at step 0, from the model's current (or the
    given) initial state; nothing is updated."""
    import torch
    state = {k: v.clone() for k, v in model.state_dict().items()}
    if init_state is not None:
        model.load_state_dict(init_state, strict=False)
    steps = [m for m in model.modules() if hasattr(m, 'num_steps')]
    saved = [int(m.num_steps) for m in steps]
    for m in steps:
        m.num_steps.zero_()
    model.train()
    with torch.no_grad():
        data = model.data_preprocessor(batch, True)
        losses = model(**data, mode='loss')
        loss, _ = model.parse_losses(losses)
    model.load_state_dict(state)
    for m, s in zip(steps, saved):
        m.num_steps.fill_(s)
    return float(loss)


def measure(args) -> dict:
    """Everything about one option set, in this process."""
    import torch
    cfg, model, optim, loader = build(args)

    def cycle():
        while True:  # small data sets end before the timed steps do
            yield from loader

    batches = cycle()
    batch_size = cfg.train_dataloader.batch_size

    first = next(batches)
    init_state = None
    if args.init_state:
        init_state = torch.load(args.init_state, weights_only=True)
    if args.save_init_state:
        torch.save(model.state_dict(), args.save_init_state)
    loss_fp32 = fixed_batch_loss(model, first, init_state)
    model.train()

    def step():
        """One training step; seconds of data, forward + backward,
        optimizer and EMA."""
        t0 = time.perf_counter()
        batch = next(batches)
        with optim.optim_context(model):
            data = model.data_preprocessor(batch, True)
        sync()
        t1 = time.perf_counter()
        with optim.optim_context(model):
            losses = model(**data, mode='loss')
        loss, _ = model.parse_losses(losses)
        optim.backward(optim.scale_loss(loss))
        sync()
        t2 = time.perf_counter()
        optim.step()
        optim.zero_grad()
        sync()
        t3 = time.perf_counter()
        model.update_target_encoder(0.996)
        sync()
        t4 = time.perf_counter()
        return t1 - t0, t2 - t1, t3 - t2, t4 - t3

    t = time.perf_counter()
    for _ in range(args.warmup):
        step()
    warmup_s = time.perf_counter() - t
    parts = [step() for _ in range(args.steps)]
    times = [sum(p) for p in parts]
    step_s = statistics.median(times)
    split = {
        name: statistics.median(p[i] for p in parts) / step_s
        for i, name in enumerate(('data', 'forward_backward', 'optimizer',
                                  'ema'))
    }

    # Mask sampling runs inside the loss; time the same calls on their own.
    grid = model.backbone.grid_size
    t = time.perf_counter()
    for _ in range(args.steps):
        model.masker.sample(batch_size, grid)
    mask_s = (time.perf_counter() - t) / args.steps

    from torch.utils.flop_counter import FlopCounterMode
    batch = next(batches)
    with FlopCounterMode(display=False) as counter:
        with optim.optim_context(model):
            data = model.data_preprocessor(batch, True)
            losses = model(**data, mode='loss')
        loss, _ = model.parse_losses(losses)
        loss.backward()
    optim.zero_grad()
    flops = counter.get_total_flops()

    out = dict(
        config=args.config,
        options=args.cfg_options or {},
        amp=args.amp,
        compile=args.compile,
        batch_size=batch_size,
        param_groups=len(optim.optimizer.param_groups),
        images_per_s=batch_size / step_s,
        step_ms=1000 * step_s,
        step_ms_all=[1000 * t for t in times],
        warmup_s=warmup_s,
        gflop_per_step=flops / 1e9,
        model_flops=flops / step_s,
        split=split,
        data_fraction=split['data'],
        mask_fraction=mask_s / step_s,
        loss_fp32=loss_fp32,
        peak_rss_gb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20)
    if torch.cuda.is_available():
        out['peak_gpu_gb'] = torch.cuda.max_memory_allocated() / 2**30
    if args.profile:
        out['profile'] = profile_split(step, args.profile_steps)
    return out


#: Profiler op names by kind, for the split of step time.
OP_KINDS = (
    ('attention', ('attention', 'softmax', 'bmm', 'baddbmm')),
    ('matmul', ('addmm', 'aten::mm', 'matmul', 'linear', 'convolution')),
    ('optimizer and EMA', ('_foreach', 'adam', 'lerp')),
)


def profile_split(step, steps: int) -> dict:
    """Self time of every op over ``steps`` steps, grouped by kind."""
    from torch.profiler import ProfilerActivity, profile
    activities = [ProfilerActivity.CPU]
    import torch
    if torch.cuda.is_available():
        activities.append(ProfilerActivity.CUDA)
    with profile(activities=activities) as prof:
        for _ in range(steps):
            step()
    events = prof.key_averages()
    kinds = {k: 0.0 for k, _ in OP_KINDS}
    kinds['elementwise and other'] = 0.0
    top = []
    total = 0.0
    for ev in events:
        if not ev.key.startswith('aten::'):
            continue
        t = ev.self_cpu_time_total / 1e3 / steps  # ms per step
        if torch.cuda.is_available():
            t = getattr(ev, 'self_device_time_total',
                        ev.self_cuda_time_total) / 1e3 / steps
        total += t
        top.append((ev.key, t))
        name = ev.key.lower()
        for kind, words in OP_KINDS:
            if any(w in name for w in words):
                kinds[kind] += t
                break
        else:
            kinds['elementwise and other'] += t
    top.sort(key=lambda x: -x[1])
    return dict(ms_per_step=total, kinds=kinds, top=top[:12])


def report(r: dict, peaks: dict) -> None:
    dtype = 'bf16' if r['amp'] else 'fp32'
    peak = peaks.get(dtype)
    print(f"  images/s: {r['images_per_s']:.1f}  (step {r['step_ms']:.1f} "
          f"ms, median of {len(r['step_ms_all'])}; batch {r['batch_size']}, "
          f"{'bf16 autocast' if r['amp'] else 'fp32'}"
          f"{', compiled' if r['compile'] else ''}; "
          f"{r['param_groups']} optimizer param groups)")
    line = (f"  model: {r['gflop_per_step']:.1f} GFLOP/step, "
            f"{r['model_flops'] / 1e9:.1f} GFLOP/s")
    if peak:
        line += (f"; {dtype} matmul peak {peak / 1e9:.0f} GFLOP/s: "
                 f"{100 * r['model_flops'] / peak:.1f}% of peak")
    print(line)
    sp = r['split']
    print(f"  step split: forward+backward {100 * sp['forward_backward']:.0f}"
          f"%, optimizer {100 * sp['optimizer']:.1f}%, EMA "
          f"{100 * sp['ema']:.1f}%, data loading {100 * sp['data']:.1f}%; "
          f"mask sampling (inside forward) {100 * r['mask_fraction']:.1f}%")
    print(f"  peak RSS "
          f"{r['peak_rss_gb']:.2f} GB" +
          (f"; peak GPU memory {r['peak_gpu_gb']:.2f} GB" if 'peak_gpu_gb' in
           r else ''))
    print(f"  fp32 loss of a fixed batch from the initial state: "
          f"{r['loss_fp32']:.7f}")
    if 'profile' in r:
        p = r['profile']
        split = ', '.join(f'{k} {100 * v / p["ms_per_step"]:.0f}%'
                          for k, v in p['kinds'].items())
        print(f"  profile ({p['ms_per_step']:.0f} ms of op self time per "
              f"step): {split}")
        for name, t in p['top']:
            print(f'    {name:<50} {t:7.1f} ms/step')


def run_child(args, extra, cwd=REPO, pythonpath=REPO, config=None) -> dict:
    """Measure one option set in a fresh process; returns its JSON."""
    with tempfile.NamedTemporaryFile(suffix='.json', delete=False) as f:
        out = f.name
    cmd = [
        sys.executable,
        osp.abspath(__file__), config or args.config, '--steps',
        str(args.steps), '--warmup',
        str(args.warmup), '--json', out, '--child'
    ] + extra
    if args.amp:
        cmd.append('--amp')
    if args.image_size:
        cmd += ['--image-size', str(args.image_size)]
    env = dict(os.environ, PYTHONPATH=pythonpath)
    proc = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f'benchmark child failed ({" ".join(cmd)}):\n'
                           f'{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}')
    with open(out) as f:
        return json.load(f)


def options_args(options) -> list:
    if not options:
        return []
    return ['--cfg-options'] + [
        f'{k}={v!r}' if isinstance(v, str) else f'{k}={v}'
        for k, v in options.items()
    ]


def side_by_side(args) -> dict:
    """Baseline and candidate in alternating fresh processes."""
    tmp = tempfile.mkdtemp(prefix='hjepa_sbs_')
    init = osp.join(tmp, 'init_state.pth')
    base_cwd = base_path = REPO
    worktree = None
    if args.baseline_commit:
        worktree = osp.join(tmp, 'baseline')
        subprocess.run([
            'git', '-C', REPO, 'worktree', 'add', '--detach', worktree,
            args.baseline_commit
        ],
                       check=True,
                       capture_output=True)
        base_cwd = base_path = worktree
        if osp.isdir(osp.join(REPO, 'data')):  # data sets are not in git
            os.symlink(osp.join(REPO, 'data'), osp.join(worktree, 'data'))
    # the profile is of the candidate (a pinned commit's script may not
    # have --profile)
    candidate = options_args(
        args.cfg_options) + (['--compile'] if args.compile else
                             []) + (['--profile'] if args.profile else [])
    baseline = options_args(args.baseline_options)
    runs = {'baseline': [], 'candidate': []}
    try:
        for r in range(args.rounds):
            b = run_child(
                args,
                baseline + (['--save-init-state', init] if r == 0 else []),
                base_cwd, base_path, args.baseline_config)
            c = run_child(args, candidate + ['--init-state', init])
            runs['baseline'].append(b)
            runs['candidate'].append(c)
            print(
                f'round {r + 1}: baseline {b["images_per_s"]:.1f} img/s, '
                f'candidate {c["images_per_s"]:.1f} img/s',
                flush=True)
    finally:
        if worktree:
            subprocess.run(
                ['git', '-C', REPO, 'worktree', 'remove', '--force', worktree],
                capture_output=True)
    med = {
        k: statistics.median(x['images_per_s'] for x in v)
        for k, v in runs.items()
    }
    lb = runs['baseline'][0]['loss_fp32']
    lc = runs['candidate'][0]['loss_fp32']
    rel = abs(lc - lb) / max(abs(lb), 1e-12)
    return dict(
        baseline=runs['baseline'],
        candidate=runs['candidate'],
        ratio=med['candidate'] / med['baseline'],
        median_images_per_s=med,
        loss_rel_diff=rel)


def parse_args():
    from hjepa.utils import CfgOptionsAction
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('--amp', action='store_true', help='bf16 autocast')
    parser.add_argument(
        '--compile',
        action='store_true',
        help='torch.compile the model (model.compile=True)')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction)
    parser.add_argument('--steps', type=int, default=20)
    parser.add_argument(
        '--image-size',
        type=int,
        help='time on random images of this side instead of the config\'s '
        'data (set the model\'s img_size to match)')
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument(
        '--profile',
        action='store_true',
        help='split step time by op kind (torch profiler)')
    parser.add_argument('--profile-steps', type=int, default=5)
    parser.add_argument(
        '--no-peak',
        action='store_true',
        help='skip measuring the matmul peaks')
    parser.add_argument(
        '--baseline-commit',
        help='run this commit side by side (git worktree)')
    parser.add_argument(
        '--baseline-config',
        help='run this config side by side (with --baseline-options)')
    parser.add_argument(
        '--baseline-options',
        nargs='+',
        action=CfgOptionsAction,
        help='run these --cfg-options side by side')
    parser.add_argument(
        '--rounds',
        type=int,
        default=2,
        help='alternating baseline/candidate rounds')
    parser.add_argument('--json', help='write every number here')
    parser.add_argument('--child', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--init-state', help=argparse.SUPPRESS)
    parser.add_argument('--save-init-state', help=argparse.SUPPRESS)
    return parser.parse_args()


def main():
    args = parse_args()
    if args.child:
        result = measure(args)
        with open(args.json, 'w') as f:
            json.dump(result, f)
        return
    import torch

    from hjepa.utils.amp import cpu_bf16_matmul_supported
    info = machine()
    info['bf16_kernels'] = (
        torch.cuda.is_available() or cpu_bf16_matmul_supported())
    print(f"machine: {info['cpu']} ({info['cores']} cores; "
          f"{', '.join(info['features']) or 'no AVX-512/AMX'})" +
          (f"; GPU {info['gpu']}" if 'gpu' in info else '') +
          f"; torch {info['torch']}, {info['threads']} threads")
    peaks = {}
    if not args.no_peak:
        peaks = dict(
            fp32=matmul_peak(torch.float32), bf16=matmul_peak(torch.bfloat16))
        print(f"matmul peak (median of timed blocks, {info['threads']} "
              f"threads): fp32 {peaks['fp32'] / 1e9:.0f} GFLOP/s, bf16 "
              f"{peaks['bf16'] / 1e9:.1f} GFLOP/s")
    if not info['bf16_kernels']:
        print('no bf16 matmul kernels on this CPU (no AVX-512 or Arm BF16): '
              '--amp trains in fp32 here')
    result = dict(machine=info, peaks=peaks)
    if args.baseline_commit or args.baseline_options or \
            args.baseline_config:
        sbs = side_by_side(args)
        result.update(sbs)
        which = (f'commit {args.baseline_commit}' if args.baseline_commit else
                 f'{args.baseline_config or args.config}, options '
                 f'{args.baseline_options or {}}')
        print(f'baseline ({which}):')
        report(sbs['baseline'][0], peaks)
        print(f'candidate (options {args.cfg_options or {}}'
              f'{", compiled" if args.compile else ""}):')
        report(sbs['candidate'][0], peaks)
        print(f"speed: candidate / baseline = {sbs['ratio']:.2f}x "
              f"(median images/s over {args.rounds} alternating rounds: "
              f"{sbs['median_images_per_s']['candidate']:.1f} / "
              f"{sbs['median_images_per_s']['baseline']:.1f}); fp32 "
              f"fixed-batch loss relative difference "
              f"{sbs['loss_rel_diff']:.2e}")
    else:
        r = measure(args)
        result['result'] = r
        print(f'{args.config}:')
        report(r, peaks)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=1)


if __name__ == '__main__':
    main()
