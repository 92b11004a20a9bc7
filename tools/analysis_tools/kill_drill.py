"""kill -9 drill: kill a training run at random moments and resume it.

Trains the smoke config with a larger encoder (ViT-Small, 12 layers, so
that a checkpoint is ~350 MB and a save takes a visible share of the run)
on 32 images in batches of 4 (8 iterations an epoch),
one checkpoint per epoch, ``max_keep_ckpts`` of your choice. Each attempt
runs ``tools/train.py`` (``--resume`` after the first), waits for its first
training iteration, sleeps a random time and sends SIGKILL. After every
kill it checks that

- ``last_checkpoint`` names a complete checkpoint (it loads, safely);
- at most one checkpoint interval was lost: the kept checkpoint's epoch is
  at least the last epoch whose save had started, minus one;
- the next attempt resumes from exactly that checkpoint;

and it counts the kills that landed inside a save (one had started but
is not the one kept: a ``*.partial`` file left behind, a newer complete
checkpoint than ``last_checkpoint`` names, or nothing written yet).
After the last kill the run is resumed to the end and its final
iteration is checked. Exits 1 on the first broken invariant.

    python tools/analysis_tools/kill_drill.py [--kills 20] \
        [--max-keep-ckpts 1] [--epochs 30] [--seed 0] [--work-dir DIR]
"""
import argparse
import os
import os.path as osp
import random
import re
import shutil
import signal
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SMOKE = 'configs/hjepa/hjepa_vit-tiny-p4_smoke_cifar10.py'
PARTIAL = '.partial'
ITERS_PER_EPOCH = 8  # 32 images, batch 4


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--kills', type=int, default=20)
    parser.add_argument('--max-keep-ckpts', type=int, default=1)
    parser.add_argument('--epochs', type=int, default=30)
    parser.add_argument(
        '--max-delay',
        type=float,
        default=12.0,
        help='kill up to this many seconds after the first iteration')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--work-dir', default='work_dirs/kill_drill')
    parser.add_argument(
        '--data-root', default=osp.join(REPO, 'data', 'cifar10'))
    return parser.parse_args()


def command(args, resume):
    options = [
        f'train_dataloader.dataset.data_root={args.data_root}',
        f'train_cfg.max_epochs={args.epochs}',
        'model.backbone.arch.name=small',
        'model.backbone.arch.num_layers=12',
        'train_dataloader.batch_size=4',
        'train_dataloader.dataset.max_samples=32',
        'default_hooks.checkpoint.interval=1',
        f'default_hooks.checkpoint.max_keep_ckpts={args.max_keep_ckpts}',
        'default_hooks.logger.interval=1',
    ]
    return (
        [sys.executable, 'tools/train.py', SMOKE, '--work-dir', args.work_dir
         ] + (['--resume'] if resume else []) + ['--cfg-options'] + options)


def last_checkpoint(work_dir):
    path = osp.join(work_dir, 'last_checkpoint')
    if not osp.exists(path):
        return None
    with open(path) as f:
        return f.read().strip()


def checkpoint_epoch(path):
    from hjepa.utils.checkpoint import read_checkpoint
    return read_checkpoint(path)['meta']['epoch']


def epochs_on_disk(work_dir):
    return sorted(
        int(m.group(1)) for m in (re.fullmatch(r'epoch_(\d+)\.pth', name)
                                  for name in os.listdir(work_dir)) if m)


def fail(message):
    print(f'FAILED: {message}', flush=True)
    sys.exit(1)


def main():
    args = parse_args()
    rng = random.Random(args.seed)
    if osp.exists(args.work_dir):
        shutil.rmtree(args.work_dir)
    os.makedirs(args.work_dir)
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    inside_save = killed_early = 0
    for attempt in range(args.kills):
        expected = last_checkpoint(args.work_dir)
        log_path = osp.join(args.work_dir, f'attempt_{attempt}.log')
        with open(log_path, 'w') as log:
            proc = subprocess.Popen(
                command(args, resume=expected is not None),
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT)
            started = time.time()
            while proc.poll() is None:  # wait for the first iteration
                with open(log_path) as f:
                    if 'Epoch(train)' in f.read():
                        break
                if time.time() - started > 600:
                    proc.kill()
                    fail(f'attempt {attempt}: no iteration in 10 min, see '
                         f'{log_path}')
                time.sleep(0.2)
            delay = rng.uniform(0, args.max_delay)
            time.sleep(delay)
            if proc.poll() is not None:
                fail(f'attempt {attempt}: the run ended (rc {proc.returncode})'
                     f' before the kill; raise --epochs. See {log_path}')
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        with open(log_path) as f:
            text = f.read()
        if expected is not None and \
                f'Load checkpoint from {expected}' not in text:
            fail(f'attempt {attempt} did not resume from {expected}; see '
                 f'{log_path}')
        saves = [
            int(e)
            for e in re.findall(r'Saving checkpoint at (\d+) epochs', text)
        ]
        named = last_checkpoint(args.work_dir)
        partial = [n for n in os.listdir(args.work_dir) if n.endswith(PARTIAL)]
        on_disk = epochs_on_disk(args.work_dir)
        kept = checkpoint_epoch(named) if named else 0
        newer = [e for e in on_disk if e > kept]
        # inside a save: it had started (logged) but is not the one kept,
        # or its file is there, partial or not yet named
        hit = bool(partial or newer or max(saves, default=0) > kept)
        inside_save += hit
        last_started = max(saves, default=kept)
        if kept < last_started - 1:
            fail(f'attempt {attempt}: the save of epoch {last_started} had '
                 f'started but the kept checkpoint is of epoch {kept}')
        if not saves and named is None:
            killed_early += 1
        note = ' INSIDE A SAVE' if hit else ''
        if partial:
            note += f' (partial file left: {partial})'
        print(
            f'kill {attempt + 1:2d}: {delay:5.2f} s after the first '
            f'iteration; saves started this attempt {saves or "-"}; '
            f'last_checkpoint -> epoch {kept}; on disk {on_disk};{note}',
            flush=True)
    # resume to the end
    expected = last_checkpoint(args.work_dir)
    final = subprocess.run(
        command(args, resume=True),
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True)
    if final.returncode != 0:
        fail(f'the final resume failed:\n{final.stderr[-3000:]}')
    if expected is not None and \
            f'Load checkpoint from {expected}' not in final.stdout:
        fail(f'the final run did not resume from {expected}')
    from hjepa.utils.checkpoint import read_checkpoint
    end = read_checkpoint(last_checkpoint(args.work_dir))['meta']
    want = args.epochs * ITERS_PER_EPOCH
    if end['iter'] != want:
        fail(f'the final checkpoint is at iteration {end["iter"]}, '
             f'expected {want}')
    print(f'{args.kills} kills, {inside_save} inside a checkpoint save, '
          f'{killed_early} before any checkpoint existed; every resume '
          f'succeeded, none lost more than one epoch (checkpoint interval); '
          f'the run ended at iteration {end["iter"]} as planned')


if __name__ == '__main__':
    main()
