"""How the cost of a pretraining step grows: images/s and peak memory for
ViT-Tiny/Small/Base at 32 px (patch 4) and 224 px (patch 16), batches 32 to
256, with one level (I-JEPA's loss) and with the config's hierarchy, as a
Markdown table.

Every cell is one ``pretrain_throughput.py`` run in a fresh process (bf16
autocast, random images of the size, ``--steps`` timed steps after one
warm-up step), so peak memory is the cell's own. Before a cell is run its
peak memory is extrapolated from the smaller batches of its row (linear in
the batch); a cell expected above ``--mem-limit-gb`` is not run and is
marked "does not fit", and one expected to take longer than
``--max-cell-min`` minutes (from the row's last cell) is marked "not run".
A cell whose run fails (or the OOM killer ends) is marked in the table and
makes the command exit non-zero. The machine line of
``pretrain_throughput.py`` heads the table; run it on idle cores.

    python tools/benchmarks/cost_table.py [--archs tiny small base] \\
        [--sizes 32 224] [--batches 32 64 128 256] [--steps 2] \\
        [--mem-limit-gb 20] [--max-cell-min 10] \\
        [--out work_dirs/bench/cost_table.md]
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BENCH = osp.join(REPO, 'tools', 'benchmarks', 'pretrain_throughput.py')
#: image side -> (the pretraining config of that resolution, patch size)
CONFIGS = {
    32: ('configs/hjepa/hjepa_vit-tiny-p4_1xb256-300e_cifar10.py', 4),
    224: ('configs/hjepa/vit-b_in1k.py', 16),
}
LEAF = """_base_ = [{base!r}]
model = dict(
    backbone=dict(arch={arch!r}, img_size={size}, patch_size={patch}){head})
train_dataloader = dict(batch_size={batch})
"""
ONE_LEVEL = (",\n    predictor=dict(multiway=False),"
             "\n    head=dict(levels=[dict(kind='patch')], "
             'level_weights=(1.0, ))')


def leaf_config(folder: str, size: int, arch: str, batch: int,
                one_level: bool) -> str:
    """A config of one cell, on top of the resolution's config."""
    base, patch = CONFIGS[size]
    path = osp.join(folder,
                    f'{arch}_{size}_{batch}_{1 if one_level else "h"}.py')
    with open(path, 'w') as f:
        f.write(
            LEAF.format(
                base=osp.join(REPO, base),
                arch=arch,
                size=size,
                patch=patch,
                batch=batch,
                head=ONE_LEVEL if one_level else ''))
    return path


def run_cell(config: str, size: int, steps: int) -> dict:
    """``pretrain_throughput.py`` on one cell, in a fresh process."""
    with tempfile.NamedTemporaryFile(suffix='.json', delete=False) as f:
        out = f.name
    cmd = [
        sys.executable, BENCH, config, '--amp', '--no-peak', '--image-size',
        str(size), '--steps',
        str(steps), '--warmup', '1', '--json', out
    ]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if proc.returncode == -9:  # the kernel's OOM killer, as a rule
        return dict(error='killed (SIGKILL: out of memory?)', oom=True)
    if proc.returncode:
        return dict(error=(proc.stderr or proc.stdout).strip()[-300:])
    with open(out) as f:
        data = json.load(f)
    return dict(machine=data['machine'], **data['result'])


def expected_memory(done: list, batch: int):
    """Peak GB at ``batch``, extrapolated linearly from the measured
    ``(batch, GB, seconds)`` of the smaller batches (None with fewer than
    two)."""
    if len(done) < 2:
        return None
    (b0, m0, _), (b1, m1, _) = done[-2:]
    return m1 + (m1 - m0) / (b1 - b0) * (batch - b1)


def expected_minutes(done: list, batch: int):
    """Minutes of a cell at ``batch``: the row's last cell's, scaled by
    the batch (None before the first cell)."""
    if not done:
        return None
    b, _, seconds = done[-1]
    return seconds * batch / b / 60


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument(
        '--archs', nargs='+', default=['tiny', 'small', 'base'])
    parser.add_argument(
        '--sizes', nargs='+', type=int, default=[32, 224], choices=CONFIGS)
    parser.add_argument(
        '--batches', nargs='+', type=int, default=[32, 64, 128, 256])
    parser.add_argument(
        '--levels',
        nargs='+',
        default=['1', 'hierarchy'],
        choices=['1', 'hierarchy'],
        help="'1': the patch level alone; 'hierarchy': the config's levels")
    parser.add_argument('--steps', type=int, default=2)
    parser.add_argument('--mem-limit-gb', type=float, default=20.0)
    parser.add_argument('--max-cell-min', type=float, default=10.0)
    parser.add_argument(
        '--out', default=osp.join(REPO, 'work_dirs', 'bench', 'cost_table.md'))
    return parser.parse_args()


def main():
    args = parse_args()
    folder = tempfile.mkdtemp(prefix='hjepa_cost_')
    rows, machine = [], None
    for size in args.sizes:
        for arch in args.archs:
            for one_level in [lv == '1' for lv in args.levels]:
                done = []
                for batch in sorted(args.batches):
                    expected = expected_memory(done, batch)
                    minutes = expected_minutes(done, batch)
                    cell = dict(
                        size=size,
                        arch=arch,
                        levels='1' if one_level else 'hierarchy',
                        batch=batch)
                    if expected is not None and \
                            expected > args.mem_limit_gb:
                        cell['skipped'] = expected
                    elif minutes is not None and \
                            minutes > args.max_cell_min:
                        cell['not_run_min'] = minutes
                    else:
                        t0 = time.perf_counter()
                        r = run_cell(
                            leaf_config(folder, size, arch, batch, one_level),
                            size, args.steps)
                        cell.update(r, seconds=time.perf_counter() - t0)
                        if 'error' not in r:
                            machine = machine or r['machine']
                            done.append(
                                (batch, r['peak_rss_gb'], cell['seconds']))
                    rows.append(cell)
                    print(
                        json.dumps({
                            k: v
                            for k, v in cell.items() if k != 'machine'
                        }),
                        flush=True)
    table = markdown(rows, machine, args)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        f.write(table)
    with open(osp.splitext(args.out)[0] + '.json', 'w') as f:
        json.dump(rows, f, indent=1)
    print(table)
    failed = [r for r in rows if 'error' in r]
    if failed:
        sys.exit('cells not measured: ' + '; '.join(
            f"{r['arch']} {r['size']} px batch {r['batch']} levels "
            f"{r['levels']}: {r['error']}" for r in failed))


def markdown(rows: list, machine: dict, args) -> str:
    head = ''
    if machine:
        head = (f"{machine['cpu']} ({machine['cores']} cores; "
                f"{', '.join(machine['features']) or 'no AVX-512/AMX'}), "
                f"torch {machine['torch']}, {machine['threads']} threads; "
                f'bf16 autocast, {args.steps} timed steps after 1 warm-up; '
                'images/s (peak RSS GB)\n\n')
    lines = [
        '| image, patch | ViT | levels | ' +
        ' | '.join(f'batch {b}' for b in sorted(args.batches)) + ' |',
        '| --- | --- | --- | ' + ' | '.join('---' for _ in args.batches) + ' |'
    ]
    keys = []
    for r in rows:
        key = (r['size'], r['arch'], r['levels'])
        if key not in keys:
            keys.append(key)
    for size, arch, levels in keys:
        cells = []
        for r in rows:
            if (r['size'], r['arch'], r['levels']) != (size, arch, levels):
                continue
            if 'skipped' in r:
                cells.append(f"does not fit (~{r['skipped']:.0f} GB)")
            elif 'not_run_min' in r:
                cells.append(f"not run (~{r['not_run_min']:.0f} min)")
            elif r.get('oom'):
                cells.append('killed: out of memory')
            elif 'error' in r:
                cells.append('failed')
            else:
                cells.append(
                    f"{r['images_per_s']:.1f} ({r['peak_rss_gb']:.1f})")
        lines.append(f'| {size} px, /{CONFIGS[size][1]} | {arch} | '
                     f"{levels} | {' | '.join(cells)} |")
    return head + '\n'.join(lines) + '\n'


if __name__ == '__main__':
    main()
