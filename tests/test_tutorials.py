"""The tutorials of ``docs/tutorials``, run as a user runs them, on the
smoke config and a few CIFAR-10 images."""
import os
import os.path as osp
import re
import shutil
import subprocess
import sys

import pytest

from tests.helpers import REPO, SMOKE
from tests.test_tools.test_tools import run

TUTORIALS = osp.join(REPO, 'docs', 'tutorials')


def tutorial(name):
    return [sys.executable, osp.join(TUTORIALS, name)]


@pytest.fixture(scope='module')
def home(tmp_path_factory):
    """``$HJEPA_HOME`` of these tests (the zoo the tutorials register in)."""
    path = tmp_path_factory.mktemp('hjepa_home')
    old = os.environ.get('HJEPA_HOME')
    os.environ['HJEPA_HOME'] = str(path)
    yield path
    if old is None:
        os.environ.pop('HJEPA_HOME')
    else:
        os.environ['HJEPA_HOME'] = old


@pytest.fixture(scope='module')
def photos(tmp_path_factory, cifar_root):
    """Two class folders of 24 CIFAR-10 test images each."""
    root = tmp_path_factory.mktemp('photos')
    for cls in ('cat', 'ship'):
        src = osp.join(cifar_root, 'test', cls)
        (root / cls).mkdir()
        for name in sorted(os.listdir(src))[:24]:
            shutil.copy(osp.join(src, name), root / cls / name)
    return str(root)


@pytest.fixture(scope='module')
def pretrained(tmp_path_factory, home, photos):
    """Tutorial 1's run: its output and work dir."""
    work_dir = str(tmp_path_factory.mktemp('tutorial_1'))
    out = run(
        tutorial('1_pretrain_on_your_images.py') + [
            '--images', photos, '--work-dir', work_dir, '--name',
            'tutorial_smoke'
        ]).stdout
    return out, work_dir


@pytest.mark.slow
def test_1_pretrain_register_and_embed(pretrained, home):
    out, work_dir = pretrained
    assert '48 images in' in out and '2 class folders' in out
    assert osp.isfile(osp.join(work_dir, 'epoch_2.pth'))
    assert "registered 'tutorial_smoke'" in out
    assert (home / 'model-index.yml').read_text().count('tutorial_smoke') > 0
    assert 'embeddings: (48, 192)' in out
    ranks = [
        float(r) for r in re.findall(r'effective rank ([\d.]+) of 192', out)
    ]
    assert len(ranks) == 2 and all(1 <= r <= 48 for r in ranks)


def test_2_evaluate(pretrained, cifar_root):
    _, work_dir = pretrained
    out = run(
        tutorial('2_evaluate_a_checkpoint.py') + [
            SMOKE,
            osp.join(work_dir, 'epoch_2.pth'), '--data-root', cifar_root,
            '--max-samples', '300', '--probe-epochs', '3'
        ]).stdout
    rows = re.findall(
        r'^(pretrained|random init): k-NN k=10 ([\d.]+), k-NN k=20 ([\d.]+),'
        r'( k-NN k=200 [\d.]+,)? linear probe ([\d.]+) .*; 300 bank / 300 '
        r'test images$', out, re.M)
    assert [r[0] for r in rows] == ['pretrained', 'random init'], out
    for row in rows:  # accuracies of 10 classes, in %
        assert all(0 <= float(v) <= 100 for v in (row[1], row[2], row[4]))
    assert f'python tools/test.py {SMOKE}' in out


def test_3_neighbours(pretrained, photos, tmp_path):
    png = tmp_path / 'grid.png'
    out = run(
        tutorial('3_features_and_neighbours.py') + [
            '--model', 'tutorial_smoke', '--gallery', photos, '--queries', '4',
            '--k', '3', '--out',
            str(png)
        ]).stdout
    assert 'gallery: 48 images, features (48, 192)' in out
    # 4 queries of 3 neighbours each, never the query itself
    queries = re.findall(r'^query (\S+)$', out, re.M)
    assert len(queries) == 4
    blocks = out.split('query ')[1:]
    for q, block in zip(queries, blocks):
        neighbours = re.findall(r'^  -?[\d.]+  (\S+)$', block, re.M)
        assert len(neighbours) == 3 and q not in neighbours
    assert re.search(r'precision@3 .*: [\d.]+% over 4 queries \(50.0% by', out)
    from PIL import Image
    with Image.open(png) as img:  # 4 rows of 1 + 3 tiles of 64 + 4 px
        assert img.size == (4 * 68, 4 * 68)


def test_3_needs_a_model():
    result = subprocess.run(
        tutorial('3_features_and_neighbours.py') + ['--gallery', '.'],
        cwd=REPO,
        capture_output=True,
        text=True)
    assert result.returncode == 2
    assert '--model NAME or --config CONFIG' in result.stderr


@pytest.mark.slow
def test_4_add_a_component(tmp_path, cifar_root):
    # the smoke config's data root is data/cifar10 under the repository
    assert osp.samefile(cifar_root, osp.join(REPO, 'data', 'cifar10'))
    out = run(
        tutorial('4_add_a_component.py') +
        ['--work-dir', str(tmp_path / 't4')]).stdout
    assert 'L1LatentLoss on a known answer: 1.0' in out
    assert 'built head loss: L1LatentLoss' in out
    assert 'trained with L1LatentLoss from a config file' in out
    assert osp.isfile(tmp_path / 't4' / 'in_python' / 'epoch_1.pth')
    assert osp.isfile(tmp_path / 't4' / 'from_config' / 'epoch_1.pth')
