"""The evaluation report: nesting, the Markdown table and the files, from
plain data (no runner)."""
import json

import torch

from hjepa.evaluation import EvalData, EvalSubject
from hjepa.evaluation.report import markdown_table, nest, write_report

METRICS = {
    'model/knn/top1_k20': 55.79,
    'model/knn/seconds': 3.0,
    'random_init/knn/top1_k20': 29.55,
    'raw_pixels/knn/top1_k20': 45.76,
    'model/linear_probe/cat4/top1': 62.93,
    'raw_pixels/only/here': 1.0,
    'eval_seconds': 12.0,
}


def test_nest_two_levels_deep():
    nested = nest(METRICS)
    assert nested['model'] == {
        'knn': {
            'top1_k20': 55.79,
            'seconds': 3.0
        },
        'linear_probe': {
            'cat4/top1': 62.93
        }
    }
    assert nested['eval_seconds'] == 12.0


def test_markdown_table_rows_and_columns():
    assert markdown_table(METRICS).splitlines() == [
        '| protocol / metric | checkpoint | random init | raw pixels |',
        '|---|---|---|---|',
        '| knn/top1_k20 | 55.79 | 29.55 | 45.76 |',
        '| linear_probe/cat4/top1 | 62.93 | - | - |',
        '| only/here | - | - | 1 |',  # a row only a baseline has
    ]


def test_write_report_from_plain_data(tmp_path):
    labels = torch.arange(40) % 4
    feats = torch.nn.functional.one_hot(labels, 8).float() + \
        0.1 * torch.randn(40, 8, generator=torch.Generator().manual_seed(0))
    subjects = dict(model=EvalSubject('model', dict(avg=(feats, feats))))
    files = write_report(
        str(tmp_path),
        METRICS,
        subjects,
        EvalData(labels, labels),
        config='cfg.py',
        checkpoint=None,
        encoder='target')
    assert set(files) == {'tsne', 'json', 'markdown'}
    report = json.loads((tmp_path / 'report.json').read_text())
    assert report['checkpoint'] == 'random'
    assert report['num_train'] == report['num_test'] == 40
    assert report['metrics']['model']['knn']['top1_k20'] == 55.79
    assert report['plots'] == {'tsne': 'tsne.png'}
    assert report['notes'] == [
        'no training log beside the checkpoint: no training curves'
    ]
    md = (tmp_path / 'report.md').read_text()
    assert '| knn/top1_k20 | 55.79 | 29.55 | 45.76 |' in md
    assert '![tsne](tsne.png)' in md
