"""Training on a folder of your own images: ``tools/train.py --data-root``.

The README's "Your own images" commands run here as a user runs them, on
64 JPEGs of mixed sizes beside a stray empty folder and a hidden one.
"""
import os.path as osp
import re
import shlex
import sys

import numpy as np
import pytest
from PIL import Image

from tests.helpers import REPO, SMOKE, load_tool
from tests.test_tools.test_tools import run

# The README's "Your own images" section, word for word.
README_COMMANDS = """
python tools/train.py configs/hjepa/hjepa_vit-tiny-p4_smoke_cifar10.py \\
    --data-root my_photos --work-dir work_dirs/my_photos
python tools/model_converters/hjepa_to_backbone.py \\
    work_dirs/my_photos/epoch_2.pth work_dirs/my_photos/backbone.pth
python tools/test.py configs/hjepa/hjepa_vit-tiny-p4_smoke_cifar10.py \\
    work_dirs/my_photos/epoch_2.pth --work-dir work_dirs/my_photos/eval
"""


def write_photos(folder, n, sizes=((40, 48), (32, 32), (60, 36), (36, 64))):
    """``n`` random JPEGs of mixed sizes, a stray empty folder beside them,
    and a hidden folder with a corrupt file that must never be read."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    for i in range(n):
        pixels = rng.integers(0, 256, sizes[i % len(sizes)] + (3, ), np.uint8)
        Image.fromarray(pixels).save(folder / f'img_{i:02d}.jpg')
    (folder / 'empty').mkdir()
    (folder / '.ipynb_checkpoints').mkdir()
    (folder / '.ipynb_checkpoints' / 'img_00-checkpoint.jpg').write_bytes(b'')
    return str(folder)


def load_train_tool():
    return load_tool('tools/train.py')


def run_train_main(monkeypatch, args):
    """``tools/train.py ARGS`` in this process; its SystemExit message."""
    monkeypatch.setattr(sys, 'argv', ['tools/train.py'] + args)
    with pytest.raises(SystemExit) as exit_info:
        load_train_tool().main()
    return str(exit_info.value)


@pytest.mark.slow
def test_readme_commands_on_a_folder_of_jpegs(tmp_path, cifar_root):
    photos = write_photos(tmp_path / 'my_photos', 64)
    work = str(tmp_path / 'work_dirs' / 'my_photos')
    outputs = []
    for line in README_COMMANDS.replace('\\\n', ' ').strip().splitlines():
        args = [
            re.sub(r'(work_dirs/)?my_photos', lambda m: work
                   if m.group(1) else photos, arg) for arg in shlex.split(line)
        ]
        assert args[0] == 'python'
        outputs.append(run([sys.executable] + args[1:]).stdout)
    train_log = next((tmp_path / 'work_dirs' / 'my_photos').glob('*/*.log'))
    # 64 images in batches of 32: 2 iterations an epoch (CIFAR's 256
    # images of the smoke config would make 8)
    assert 'Epoch(train) [2][2/2]' in train_log.read_text()
    assert osp.isfile(osp.join(work, 'backbone.pth'))
    assert '"model/knn/top1_k20"' in outputs[2]


def test_data_root_options(tmp_path):
    train = load_train_tool()
    options = train.data_root_options(SMOKE, str(tmp_path))
    prefix = 'train_dataloader.dataset.'
    assert options == {
        prefix + 'data_root': str(tmp_path),
        prefix + 'data_prefix': '',
        prefix + 'max_samples': None,
        prefix + 'img_size': 32,  # the encoder's input size
    }
    in1k = osp.join(REPO, 'configs', 'hjepa', 'vit-b_in1k.py')
    assert prefix + 'img_size' not in train.data_root_options(
        in1k, str(tmp_path))  # its pipeline crops
    other = tmp_path / 'other.py'
    other.write_text("train_dataloader = dict(dataset=dict(type='Toy'))\n")
    with pytest.raises(SystemExit, match="needs a training set.*'Toy'"):
        train.data_root_options(str(other), str(tmp_path))
    with pytest.raises(SystemExit, match='nope is not a folder'):
        train.data_root_options(SMOKE, str(tmp_path / 'nope'))


def test_cfg_options_data_root_points_to_the_flag(monkeypatch, tmp_path):
    message = run_train_main(monkeypatch, [
        SMOKE, '--work-dir',
        str(tmp_path), '--cfg-options', f'data_root={tmp_path}'
    ])
    assert 'changes nothing' in message
    assert f'--data-root {tmp_path}' in message


def test_a_folder_smaller_than_one_batch_says_so(monkeypatch, tmp_path):
    photos = write_photos(tmp_path / 'few', 10)
    message = run_train_main(
        monkeypatch,
        [SMOKE, '--data-root', photos, '--work-dir',
         str(tmp_path / 'work')])
    assert 'has 10 images, fewer than one batch of 32' in message
    assert photos in message


def test_test_py_refuses_cfg_options_data_root(tmp_path):
    """tools/test.py with --cfg-options data_root=DIR would score the
    config's own data and exit 0; it is refused, naming what to set."""
    import subprocess
    result = subprocess.run([
        sys.executable, 'tools/test.py', SMOKE,
        str(tmp_path / 'x.pth'), '--cfg-options', f'data_root={tmp_path}'
    ],
                            cwd=REPO,
                            capture_output=True,
                            text=True)
    assert result.returncode != 0
    assert 'changes nothing' in result.stderr
    assert 'test_dataloader.dataset.data_root=DIR' in result.stderr
