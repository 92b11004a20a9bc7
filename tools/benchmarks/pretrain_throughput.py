"""Pretraining throughput of a config on this machine.

Prints images/s of full training steps (data, masks, forward, backward,
optimizer, EMA), the model FLOP/s they reach as a fraction of this
machine's matmul peak (measured here, in the training dtype), and the share
of step time spent loading data and sampling masks.

    python tools/benchmarks/pretrain_throughput.py CONFIG [--amp] [--steps N]
"""
import argparse
import time

import torch
from mmengine.runner import Runner
from torch.utils.flop_counter import FlopCounterMode


def matmul_peak(dtype: torch.dtype, n: int = 2048, reps: int = 20) -> float:
    """Best FLOP/s of an n x n x n matmul in ``dtype``."""
    a = torch.randn(n, n, dtype=dtype)
    b = torch.randn(n, n, dtype=dtype)
    for _ in range(3):
        a @ b
    best = float('inf')
    for _ in range(reps):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('config')
    parser.add_argument('--amp', action='store_true', help='bf16 autocast')
    parser.add_argument('--steps', type=int, default=30)
    parser.add_argument('--warmup', type=int, default=5)
    args = parser.parse_args()

    from hjepa.utils import apply_amp, load_config, register_all_modules
    register_all_modules()
    cfg = load_config(args.config, work_dir='/tmp/hjepa_benchmark')
    if args.amp:
        apply_amp(cfg)
    cfg.log_level = 'WARNING'
    cfg.visualizer.vis_backends = [dict(type='LocalVisBackend')]
    runner = Runner.from_cfg(cfg)
    model = runner.model
    model.init_weights()
    optim = runner.build_optim_wrapper(cfg.optim_wrapper)
    model.train()
    loader = runner.build_dataloader(cfg.train_dataloader)
    batches = iter(loader)
    batch_size = cfg.train_dataloader.batch_size

    def step():
        t0 = time.perf_counter()
        batch = next(batches)
        with optim.optim_context(model):
            data = model.data_preprocessor(batch, True)
        t1 = time.perf_counter()
        with optim.optim_context(model):
            losses = model(**data, mode='loss')
        loss, _ = model.parse_losses(losses)
        optim.update_params(loss)
        model.update_target_encoder(0.996)
        return t1 - t0, time.perf_counter() - t0

    for _ in range(args.warmup):
        step()
    data_time = total = 0.0
    for _ in range(args.steps):
        d, s = step()
        data_time += d
        total += s

    # Mask sampling runs inside the loss; time the same calls on their own.
    grid = model.backbone.grid_size
    t = time.perf_counter()
    for _ in range(args.steps):
        model.masker.sample(batch_size, grid)
    mask_time = time.perf_counter() - t

    batch = next(batches)
    with FlopCounterMode(display=False) as counter:
        with optim.optim_context(model):
            data = model.data_preprocessor(batch, True)
            losses = model(**data, mode='loss')
        loss, _ = model.parse_losses(losses)
        loss.backward()
    optim.zero_grad()
    step_flops = counter.get_total_flops()

    dtype = torch.bfloat16 if args.amp else torch.float32
    peak = matmul_peak(dtype)
    steps_per_s = args.steps / total
    print(f'config: {args.config} (batch {batch_size}, '
          f'{"bf16 autocast" if args.amp else "fp32"}, '
          f'{torch.get_num_threads()} threads)')
    print(f'images/s: {steps_per_s * batch_size:.1f}')
    print(f'step: {1000 * total / args.steps:.1f} ms, '
          f'{step_flops / 1e9:.2f} GFLOP')
    print(f'model FLOP/s: {step_flops * steps_per_s / 1e9:.1f} G; '
          f'matmul peak ({dtype}): {peak / 1e9:.1f} G; '
          f'fraction of peak: {step_flops * steps_per_s / peak:.3f}')
    print(f'data loading: {100 * data_time / total:.1f}% of step time; '
          f'mask sampling: {100 * mask_time / total:.1f}%; '
          f'together: {100 * (data_time + mask_time) / total:.1f}%')


if __name__ == '__main__':
    main()
