"""Ablations at an equal wall-clock budget: train named arms, score them
the same way, write a table and a plot.

    python tools/analysis_tools/ablation.py configs/ablations/levels.py \\
        [--budget-min 12] [--seeds 0 1] [--parallel 2] [--arms NAME ...] \\
        [--linear-probe] [--work-dir DIR]

An ablation file (a Python config) names the arms::

    budget_minutes = 12
    seeds = (0, )
    arms = [
        dict(name='I-JEPA', config='configs/ijepa/...py',
             cfg_options={'model.head.level_weights': (1.0, )}),
        dict(name='H-JEPA, coarse weights decayed', config='configs/...py',
             custom_hooks=[dict(type='LevelWeightScheduleHook')]),
        ...
    ]

(``custom_hooks`` of an arm are added after its config's.)

For every arm and seed, one after another or ``--parallel N`` at a time
(each job pinned to its own cores, ``OMP_NUM_THREADS`` split between jobs,
never more threads than cores):

1. its config is resolved (``cfg_options``, the seed, no monitoring hooks)
   and one timed benchmark (``tools/benchmarks/pretrain_throughput.py``,
   same threads and cores as the run) gives its seconds per iteration;
2. its iterations are set so that training fits the budget, and its whole
   schedule (warm-up, cosine, weight decay, EMA ramp) is fitted to them
   (:func:`hjepa.utils.fit_schedule_to_iters`): no arm is cut off
   mid-schedule;
3. ``tools/train.py --amp`` trains it, and ``tools/test.py`` scores the
   final target encoder by k-NN (k = 20, cosine, T = 0.07, average-pooled
   last-layer tokens, the config's bank and test sets) and, with
   ``--linear-probe``, by the linear probe.

Finished steps are kept (``timing.json``, the final checkpoint,
``eval.json``, ``result.json`` in the job's directory), so running the same
command again only runs what is missing. The work dir gets
``results.md`` (mean and per-seed accuracy, iterations, s/iteration,
training minutes), ``results.json`` and ``results.png``, over every job
finished in it: those of this invocation and of earlier ones (other seeds
or ``--arms``, e.g. one runner per core).
"""
import argparse
import glob
import json
import os
import os.path as osp
import re
import statistics
import subprocess
import sys
import threading
from queue import Queue

TOOLS = osp.dirname(osp.dirname(osp.abspath(__file__)))
REPO = osp.dirname(TOOLS)
MONITOR_HOOKS = ('OnlineKNNHook', 'CollapseMonitorHook')


def slug(name: str) -> str:
    return re.sub(r'[^A-Za-z0-9._-]+', '_', name).strip('_')


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('ablation', help='ablation file (arms, budget)')
    parser.add_argument(
        '--budget-min',
        type=float,
        help='training minutes per job (default: the file)')
    parser.add_argument(
        '--seeds', type=int, nargs='+', help='seeds (default: the file)')
    parser.add_argument('--arms', nargs='+', help='run only these arms')
    parser.add_argument(
        '--parallel',
        type=int,
        default=1,
        help='jobs at once, each on its own cores')
    parser.add_argument(
        '--linear-probe',
        action='store_true',
        help='also score every arm by the linear probe')
    parser.add_argument(
        '--cores',
        type=int,
        nargs='+',
        help='CPU cores to use (default: all); --parallel slots split them')
    parser.add_argument('--timing-steps', type=int, default=15)
    parser.add_argument(
        '--margin',
        type=float,
        default=0.97,
        help='fraction of the budget the timed steps may '
        'fill (the rest: logging, hooks, checkpoints)')
    parser.add_argument(
        '--pace-from',
        help='a work dir of an earlier run of these arms: take each job\'s '
        's/iteration from how fast the same arm and seed really trained '
        'there (training minutes / iterations) instead of timing it, so '
        'that arms whose training ran slower than their timed steps get '
        'fewer iterations this time')
    parser.add_argument(
        '--pace-seed',
        type=int,
        help='with --pace-from: take every job\'s pace from this seed of '
        'its arm there (default: its own seed), to pace a seed that did '
        'not run there')
    parser.add_argument(
        '--work-dir',
        help='default: work_dirs/ablations/'
        '<ablation file name>')
    parser.add_argument(
        '--dry-run', action='store_true', help='print the jobs and exit')
    return parser.parse_args()


def load_ablation(path: str, args) -> dict:
    from mmengine.config import Config
    cfg = Config.fromfile(path)
    arms = [dict(a) for a in cfg.get('arms', [])]
    if not arms:
        raise ValueError(f'{path} names no arms (arms = [dict(name=..., '
                         'config=...), ...])')
    names = [a.get('name') for a in arms]
    for a in arms:
        if not a.get('name') or not a.get('config'):
            raise ValueError(f'arm {a} needs a name and a config')
        hooks = a.get('custom_hooks') or []
        if not isinstance(hooks, (list, tuple)) or not all(
                isinstance(h, dict) and 'type' in h for h in hooks):
            raise ValueError(f"arm {a['name']!r}: custom_hooks {hooks!r} "
                             "must be a list of hook configs with a 'type'")
    if len(set(names)) != len(names):
        raise ValueError(f'arm names {names} must be unique')
    if args.arms:
        unknown = sorted(set(args.arms) - set(names))
        if unknown:
            raise ValueError(f'--arms {unknown} are not in {path}: {names}')
        arms = [a for a in arms if a['name'] in args.arms]
    budget = args.budget_min or cfg.get('budget_minutes')
    if not budget or budget <= 0:
        raise ValueError('the budget (--budget-min or budget_minutes) must '
                         f'be positive, got {budget}')
    seeds = args.seeds or list(cfg.get('seeds', (0, )))
    return dict(arms=arms, budget_s=60.0 * budget, seeds=seeds)


def job_dir(work_dir: str, arm_name: str, seed: int) -> str:
    """Where a job of ``arm_name`` and ``seed`` keeps its files."""
    return osp.join(work_dir, slug(arm_name), f'seed{seed}')


def job_config(arm: dict, seed: int, path: str) -> None:
    """Write the arm's resolved config for ``seed``, without monitors."""
    from hjepa.utils import load_config
    options = dict(arm.get('cfg_options') or {})
    cfg = load_config(osp.join(REPO, arm['config']), options)
    cfg.randomness = dict(cfg.get('randomness', {}), seed=seed)
    cfg.model.pop('seed', None)  # the model takes the run's seed
    extra = arm.get('custom_hooks') or []
    cfg.custom_hooks = [
        h for h in cfg.get('custom_hooks', [])
        if h.get('type') not in MONITOR_HOOKS
    ] + [dict(h) for h in extra]
    cfg.pop('work_dir', None)
    cfg.dump(path)


def run(cmd, log, env, cores):
    if cores is not None:
        cmd = ['taskset', '-c', cores] + cmd
    with open(log, 'w') as f:
        f.write('+ ' + ' '.join(cmd) + '\n')
        f.flush()
        proc = subprocess.run(
            cmd, stdout=f, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    if proc.returncode:
        with open(log) as f:
            tail = f.read()[-3000:]
        raise RuntimeError(f'{" ".join(cmd)} failed ({log}):\n{tail}')


def observed_pace(job_dir: str) -> float:
    """Seconds per iteration the job in ``job_dir`` really trained at:
    its training loop's minutes over its iterations (``result.json``)."""
    path = osp.join(job_dir, 'result.json')
    if not osp.exists(path):
        raise FileNotFoundError(
            f'--pace-from: no finished job at {path} (the same arm and seed '
            'must have trained there)')
    with open(path) as f:
        r = json.load(f)
    if r.get('iterations', 0) < 1 or r.get('train_minutes', 0) <= 0:
        raise ValueError(f'--pace-from: {path} has iterations '
                         f"{r.get('iterations')} and train_minutes "
                         f"{r.get('train_minutes')}; both must be positive")
    return 60 * r['train_minutes'] / r['iterations']


def loop_seconds(log: str) -> float:
    """Seconds from the training loop's start to its last checkpoint, read
    off the log's time stamps (start-up and evaluation excluded)."""
    from datetime import datetime
    start = end = None
    with open(log) as f:
        for line in f:
            if 'Checkpoints will be saved' in line and start is None:
                start = line[:14]
            elif 'Saving checkpoint at' in line:
                end = line[:14]
    if start is None or end is None:
        raise RuntimeError(f'no training loop start/end in {log}')
    fmt = '%m/%d %H:%M:%S'
    return (datetime.strptime(end, fmt) -
            datetime.strptime(start, fmt)).total_seconds()


def run_job(job: dict, budget_s: float, args, cores, threads) -> dict:
    """Time, fit, train and score one (arm, seed)."""
    from mmengine.config import Config

    from hjepa.utils import fit_schedule_to_iters
    d = job['dir']
    done = osp.join(d, 'result.json')
    if osp.exists(done):
        with open(done) as f:
            return json.load(f)
    os.makedirs(d, exist_ok=True)
    # this tree's code, whichever tree the environment was installed from
    path = os.pathsep.join(
        p for p in (REPO, os.environ.get('PYTHONPATH')) if p)
    env = dict(
        os.environ,
        OMP_NUM_THREADS=str(threads),
        MKL_NUM_THREADS=str(threads),
        PYTHONPATH=path)
    py = sys.executable
    base_cfg = osp.join(d, 'arm_config.py')
    job_config(job['arm'], job['seed'], base_cfg)

    paced_from = None
    if args.pace_from:
        seed = job['seed'] if args.pace_seed is None else args.pace_seed
        paced_from = job_dir(args.pace_from, job['arm']['name'], seed)
        s_per_iter = observed_pace(paced_from)
    else:
        timing = osp.join(d, 'timing.json')
        if not osp.exists(timing):
            run([
                py,
                osp.join(TOOLS, 'benchmarks', 'pretrain_throughput.py'),
                base_cfg, '--amp', '--no-peak', '--steps',
                str(args.timing_steps), '--json', timing
            ], osp.join(d, 'timing.log'), env, cores)
        with open(timing) as f:
            s_per_iter = json.load(f)['result']['step_ms'] / 1000
    iters = max(1, int(budget_s * args.margin / s_per_iter))

    cfg = Config.fromfile(base_cfg)
    fit_schedule_to_iters(cfg, iters)
    train_cfg = osp.join(d, 'config.py')
    cfg.dump(train_cfg)
    ckpt = osp.join(d, f'iter_{iters}.pth')
    if not osp.exists(ckpt):  # else trained before an interruption
        run([
            py,
            osp.join(TOOLS, 'train.py'), train_cfg, '--amp', '--work-dir', d
        ], osp.join(d, 'train.log'), env, cores)
    loop_s = loop_seconds(osp.join(d, 'train.log'))

    protocols = ['knn'] + (['linear_probe'] if args.linear_probe else [])
    out = osp.join(d, 'eval.json')
    if not osp.exists(out):
        run([
            py,
            osp.join(TOOLS, 'test.py'), train_cfg, ckpt, '--work-dir',
            osp.join(d, 'eval'), '--out', out, '--subjects', 'model',
            '--protocol'
        ] + protocols, osp.join(d, 'eval.log'), env, cores)
    with open(out) as f:
        metrics = json.load(f)['metrics']
    result = dict(
        arm=job['arm']['name'],
        seed=job['seed'],
        iterations=iters,
        s_per_iter=s_per_iter,
        paced_from=paced_from,
        train_minutes=loop_s / 60,
        threads=threads,
        knn_top1=metrics['model/knn/top1_k20'],
        metrics=metrics)
    probe = [
        v for k, v in metrics.items()
        if k.startswith('model/linear_probe/') and k.endswith('avg')
    ]
    if probe:
        result['linear_probe'] = probe[0]
    with open(done, 'w') as f:
        json.dump(result, f, indent=1)
    return result


def finished_results(work_dir: str, arms) -> tuple:
    """Every job finished in ``work_dir`` (``result.json`` of any arm
    and seed, from this invocation or an earlier one), and the arms in
    table order: ``arms`` first, then arms only earlier runs had."""
    results = []
    for path in sorted(
            glob.glob(osp.join(work_dir, '*', 'seed*', 'result.json'))):
        with open(path) as f:
            results.append(json.load(f))
    names = [a['name'] for a in arms]
    extra = [
        dict(name=n) for n in dict.fromkeys(r['arm'] for r in results)
        if n not in names
    ]
    return results, list(arms) + extra


def write_results(work_dir: str, arms, results, budget_s) -> str:
    rows = []
    table = [
        f'Equal wall-clock budget: {budget_s / 60:g} min of training per '
        'job. k-NN: top-1 % on the CIFAR-10 test set, k = 20, cosine, '
        'T = 0.07, average-pooled last-layer target-encoder tokens, the '
        '50,000 training images as the bank.', '',
        '| arm | k-NN mean | k-NN per seed | linear probe | iterations | '
        's/iteration (timed, or paced by --pace-from) | '
        'training loop min |', '| --- | --- | --- | --- | --- | '
        '--- | --- |'
    ]
    for arm in arms:
        rs = sorted((r for r in results if r['arm'] == arm['name']),
                    key=lambda r: r['seed'])
        if not rs:
            continue
        knn = [r['knn_top1'] for r in rs]
        probe = [r['linear_probe'] for r in rs if 'linear_probe' in r]
        row = dict(
            arm=arm['name'],
            knn_mean=statistics.mean(knn),
            knn=knn,
            seeds=[r['seed'] for r in rs],
            probe_mean=statistics.mean(probe) if probe else None,
            iterations=[r['iterations'] for r in rs],
            s_per_iter=statistics.mean(r['s_per_iter'] for r in rs),
            train_minutes=statistics.mean(r['train_minutes'] for r in rs))
        rows.append(row)
        per_seed = ', '.join(f'{k:.2f} (s{s})'
                             for k, s in zip(knn, row['seeds']))
        probe_txt = f'{row["probe_mean"]:.2f}' if probe else '-'
        table.append(
            f'| {arm["name"]} | **{row["knn_mean"]:.2f}** | {per_seed} | '
            f'{probe_txt} | {"/".join(map(str, row["iterations"]))} | '
            f'{row["s_per_iter"]:.3f} | {row["train_minutes"]:.1f} |')
    text = '\n'.join(table) + '\n'
    with open(osp.join(work_dir, 'results.md'), 'w') as f:
        f.write(text)
    with open(osp.join(work_dir, 'results.json'), 'w') as f:
        json.dump(
            dict(budget_minutes=budget_s / 60, arms=rows, jobs=results),
            f,
            indent=1)
    plot(work_dir, rows)
    return text


def plot(work_dir: str, rows) -> None:
    from matplotlib.figure import Figure
    fig = Figure(figsize=(max(4, 1.2 * len(rows) + 2), 3.5))
    ax = fig.add_subplot()
    xs = range(len(rows))
    ax.bar(xs, [r['knn_mean'] for r in rows], color='#8fb3d9')
    for x, r in zip(xs, rows):
        ax.plot([x] * len(r['knn']), r['knn'], 'k.', markersize=6)
    ax.set_xticks(list(xs))
    ax.set_xticklabels([r['arm'] for r in rows],
                       rotation=20,
                       ha='right',
                       fontsize=8)
    ax.set_ylabel('k-NN top-1 (%)')
    lo = min(min(r['knn']) for r in rows)
    ax.set_ylim(max(0, lo - 5), max(max(r['knn']) for r in rows) + 2)
    fig.tight_layout()
    fig.savefig(osp.join(work_dir, 'results.png'), dpi=120)


def main():
    args = parse_args()
    if args.pace_seed is not None and not args.pace_from:
        raise SystemExit(f'--pace-seed {args.pace_seed} needs --pace-from '
                         '(the work dir whose runs set the pace)')
    sys.path.insert(0, REPO)
    ablation = load_ablation(args.ablation, args)
    name = osp.splitext(osp.basename(args.ablation))[0]
    work_dir = args.work_dir or osp.join('work_dirs', 'ablations', name)
    os.makedirs(work_dir, exist_ok=True)
    jobs = [
        dict(arm=arm, seed=seed, dir=job_dir(work_dir, arm['name'], seed))
        for seed in ablation['seeds'] for arm in ablation['arms']
    ]
    cores = args.cores or list(range(os.cpu_count() or 1))
    parallel = max(1, min(args.parallel, len(cores), len(jobs)))
    threads = max(1, len(cores) // parallel)
    print(
        f'{len(jobs)} jobs, {parallel} at a time with {threads} '
        f'thread(s) each, {ablation["budget_s"] / 60:g} min of training '
        f'each; work dir {work_dir}',
        flush=True)
    if args.dry_run:
        for j in jobs:
            print(f'  {j["arm"]["name"]} seed {j["seed"]}: {j["dir"]}')
        return
    queue: Queue = Queue()
    for j in jobs:
        queue.put(j)
    results, errors = [], []
    lock = threading.Lock()

    def worker(slot: int):
        core_list = ','.join(
            str(c) for c in cores[slot * threads:(slot + 1) * threads])
        pin = core_list if parallel > 1 or args.cores else None
        while not queue.empty():
            job = queue.get()
            label = f'{job["arm"]["name"]} seed {job["seed"]}'
            print(f'[slot {slot}] {label}: started', flush=True)
            try:
                r = run_job(job, ablation['budget_s'], args, pin, threads)
            except Exception as e:  # report, go on with the other jobs
                with lock:
                    errors.append(f'{label}: {e}')
                print(f'[slot {slot}] {label}: FAILED: {e}', flush=True)
                continue
            with lock:
                results.append(r)
            print(
                f'[slot {slot}] {label}: k-NN {r["knn_top1"]:.2f} after '
                f'{r["iterations"]} iterations ({r["train_minutes"]:.1f} '
                'min)',
                flush=True)

    threads_ = [
        threading.Thread(target=worker, args=(i, )) for i in range(parallel)
    ]
    for t in threads_:
        t.start()
    for t in threads_:
        t.join()
    if results:
        every, arms = finished_results(work_dir, ablation['arms'])
        print(write_results(work_dir, arms, every, ablation['budget_s']))
    if errors:
        print('\n'.join(['failed jobs:'] + errors), file=sys.stderr)
        sys.exit(1)


if __name__ == '__main__':
    main()
