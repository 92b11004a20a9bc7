"""JSON + Markdown + PNG report of a ProtocolTestLoop run."""
import datetime
import json
import os
import os.path as osp
from collections import defaultdict
from typing import Dict, Optional, Sequence

import torch

SUBJECT_TITLES = dict(
    model='checkpoint', random_init='random init', raw_pixels='raw pixels')


def nest(metrics: Dict[str, float]) -> dict:
    """``{'a/b/c': v}`` -> ``{'a': {'b': {'c': v}}}`` (two levels deep)."""
    out = defaultdict(lambda: defaultdict(dict))
    flat = {}
    for key, value in metrics.items():
        parts = key.split('/', 2)
        if len(parts) < 3:
            flat[key] = value
        else:
            out[parts[0]][parts[1]][parts[2]] = value
    nested = {s: {p: dict(m) for p, m in ps.items()} for s, ps in out.items()}
    nested.update(flat)
    return nested


def markdown_table(metrics: Dict[str, float]) -> str:
    """One row per ``<protocol>/<metric>``, one column per subject."""
    subjects = [
        s for s in SUBJECT_TITLES if any(
            k.startswith(s + '/') for k in metrics)
    ]
    rows = []
    for key in metrics:
        parts = key.split('/', 2)
        if len(parts) == 3 and parts[0] == subjects[0] and \
                not parts[2].endswith('seconds'):
            rows.append(f'{parts[1]}/{parts[2]}')
    for s in subjects[1:]:  # rows only a baseline has
        for key in metrics:
            parts = key.split('/', 2)
            row = '/'.join(parts[1:])
            if parts[0] == s and len(parts) == 3 and row not in rows and \
                    not parts[2].endswith('seconds'):
                rows.append(row)
    head = '| protocol / metric | ' + ' | '.join(SUBJECT_TITLES[s]
                                                 for s in subjects) + ' |'
    lines = [head, '|' + '---|' * (len(subjects) + 1)]
    for row in rows:
        cells = []
        for s in subjects:
            v = metrics.get(f'{s}/{row}')
            cells.append('-' if v is None else f'{v:.4g}')
        lines.append(f'| {row} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def write_report(out_dir: str,
                 metrics: Dict[str, float],
                 subjects: dict,
                 data,
                 config: Optional[str] = None,
                 checkpoint: Optional[str] = None,
                 encoder: Optional[str] = None,
                 classes: Optional[Sequence[str]] = None,
                 model=None,
                 logger=None) -> Dict[str, str]:
    """Write ``report.json``, ``report.md`` and the plots to ``out_dir``.

    Plots: training curves from the run beside the checkpoint (loss per
    level; effective rank and online k-NN when the run logged them), a
    t-SNE of test features per subject, and sampled masks on test images.

    Args:
        out_dir: Where the files go.
        metrics: Flat ``<subject>/<protocol>/<metric>`` metrics, with
            ``eval_seconds``.
        subjects: ``{name: EvalSubject}``.
        data: The :class:`EvalData` (labels; images for the mask plot).
        config: The config's path.
        checkpoint: The evaluated checkpoint (None: random init).
        encoder: ``'target'`` or ``'context'``.
        classes: Class names of the test split.
        model: The HJEPA model (its masker draws the mask plot).
        logger: Logs where the report is.

    Returns:
        ``{name: path}`` of every file written.
    """
    from hjepa.visualization.plots import (find_training_scalars,
                                           plot_embedding, plot_masks,
                                           plot_training_curves, read_scalars)
    os.makedirs(out_dir, exist_ok=True)
    files = {}
    cfg_path = config
    notes = []

    scalars = find_training_scalars(checkpoint)
    if scalars is not None:
        path = osp.join(out_dir, 'training_curves.png')
        panels = plot_training_curves(read_scalars(scalars), path)
        files['training_curves'] = path
        if len(panels) < 3:
            notes.append(f'training curves from {scalars}: the run logged '
                         f'only {panels} (rank and k-NN curves need '
                         'CollapseMonitorHook and OnlineKNNHook)')
    else:
        notes.append('no training log beside the checkpoint: no training '
                     'curves')

    embed = {SUBJECT_TITLES[n]: s.get('avg')[1] for n, s in subjects.items()}
    if embed:
        path = osp.join(out_dir, 'tsne.png')
        plot_embedding(embed, data.test_labels, classes, path)
        files['tsne'] = path

    masker = getattr(model, 'masker', None)
    if masker is not None and data.test_images is None:
        notes.append('test images not loaded: no mask plot')
    elif masker is not None:
        p = model.backbone.patch_size
        images = data.test_images[torch.linspace(0,
                                                 len(data.test_images) - 1,
                                                 8).long()]
        grid = (images.shape[-2] // p, images.shape[-1] // p)
        masks = masker.sample(
            len(images), grid,
            torch.Generator().manual_seed(0))
        pre = model.data_preprocessor
        path = osp.join(out_dir, 'masks.png')
        plot_masks(images, masks, p,
                   pre.mean.flatten().tolist(),
                   pre.std.flatten().tolist(), path)
        files['masks'] = path

    report = dict(
        date=datetime.datetime.now().isoformat(timespec='seconds'),
        config=cfg_path,
        checkpoint=checkpoint or 'random',
        encoder=encoder,
        wall_seconds=metrics.get('eval_seconds'),
        num_train=len(data.train_labels),
        num_test=len(data.test_labels),
        metrics=nest(metrics),
        plots={
            k: osp.basename(v)
            for k, v in files.items()
        },
        notes=notes)
    path = osp.join(out_dir, 'report.json')
    with open(path, 'w') as f:
        json.dump(report, f, indent=2)
    files['json'] = path

    md = [
        '# H-JEPA evaluation report', '', f'- config: `{cfg_path}`',
        f'- checkpoint: `{checkpoint or "random"}` '
        f'({report["encoder"]} encoder)',
        f'- data: {report["num_train"]} train / {report["num_test"]} test '
        'images',
        f'- wall time: {report["wall_seconds"]:.0f} s, {report["date"]}', '',
        'Accuracies in %; few-shot as mean and 95% interval half-width over '
        'episodes; k-NN and few-shot on average-pooled last-layer features; '
        'linear probe on `avg` (last layer) and `cat4` (last 4 layers). '
        'Feature quality: effective rank (RankMe), std of L2-normalised '
        'features times sqrt(D) (1 when spread evenly, 0 at collapse), '
        'mean cosine, '
        'alignment/uniformity (Wang & Isola) of two crop-and-flip views.', '',
        markdown_table(metrics), ''
    ]
    for name in ('training_curves', 'tsne', 'masks'):
        if name in files:
            md += [f'![{name}]({osp.basename(files[name])})', '']
    if notes:
        md += ['Notes:', ''] + [f'- {n}' for n in notes] + ['']
    path = osp.join(out_dir, 'report.md')
    with open(path, 'w') as f:
        f.write('\n'.join(md))
    files['markdown'] = path
    if logger is not None:
        logger.info(f'evaluation report: {path}')
    return files
