"""kill -9 during a checkpoint save, then ``tools/train.py --resume``: the
run resumes from a complete checkpoint and ends where an uninterrupted one
does (max_keep_ckpts=1, where mmengine's hook would lose everything)."""
import os
import signal
import subprocess
import sys

import pytest
import torch

from hjepa.engine.hooks.atomic_checkpoint_hook import PARTIAL
from hjepa.utils.checkpoint import CHECKPOINT_FORMAT, read_checkpoint
from tests.helpers import REPO, SMOKE
from tests.test_tools.test_tools import data_options

# tools/train.py, with the kill points of tests/test_engine/kill_points.py
TRAIN = ('import runpy, sys; import tests.test_engine.kill_points; '
         "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], "
         "run_name='__main__')")


def train(work_dir, cifar_root, *extra, kill=None, keep=1):
    """tools/train.py on the smoke config in a child process; ``kill``:
    (point, file) of tests/test_engine/kill_points.py; ``keep``:
    ``max_keep_ckpts``."""
    env = dict(os.environ)
    env.setdefault('OMP_NUM_THREADS', '1')
    if kill is not None:
        env['HJEPA_KILL_POINT'], env['HJEPA_KILL_FILE'] = kill
    return subprocess.run(
        [
            sys.executable, '-c', TRAIN, 'tools/train.py', SMOKE, '--work-dir',
            str(work_dir)
        ] + list(extra) + ['--cfg-options'] + data_options(cifar_root) +
        [f'default_hooks.checkpoint.max_keep_ckpts={keep}'],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True)


def last_checkpoint(work_dir):
    return (work_dir / 'last_checkpoint').read_text()


@pytest.fixture(scope='module')
def straight(tmp_path_factory, cifar_root):
    """The uninterrupted run's last checkpoint."""
    work_dir = tmp_path_factory.mktemp('straight')
    result = train(work_dir, cifar_root)
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in work_dir.glob('*.pth*')) == ['epoch_2.pth']
    return read_checkpoint(str(work_dir / 'epoch_2.pth'))


@pytest.mark.parametrize('point, file, survivors, keep', [
    ('before_rename', 'epoch_2.pth', ['epoch_1.pth', 'epoch_2.pth' + PARTIAL
                                      ], 1),
    ('before_last_checkpoint', 'epoch_2.pth', ['epoch_1.pth', 'epoch_2.pth'
                                               ], 1),
    ('during_deletion', 'epoch_1.pth', ['epoch_1.pth', 'epoch_2.pth'], 1),
    ('before_rename', 'epoch_2.pth', ['epoch_1.pth', 'epoch_2.pth' + PARTIAL
                                      ], 3),
    ('before_last_checkpoint', 'epoch_2.pth', ['epoch_1.pth', 'epoch_2.pth'
                                               ], 3),
])
@pytest.mark.slow
def test_kill_during_save_then_resume(tmp_path, cifar_root, straight, point,
                                      file, survivors, keep):
    killed = train(tmp_path, cifar_root, kill=(point, file), keep=keep)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert sorted(p.name for p in tmp_path.glob('*.pth*')) == survivors
    # last_checkpoint names a complete checkpoint
    named = last_checkpoint(tmp_path)
    expected = 'epoch_2.pth' if point == 'during_deletion' else 'epoch_1.pth'
    assert named == str(tmp_path / expected)
    assert read_checkpoint(named)['meta']['hjepa_format'] == CHECKPOINT_FORMAT

    resumed = train(tmp_path, cifar_root, '--resume', keep=keep)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f'Load checkpoint from {named}' in resumed.stdout
    assert last_checkpoint(tmp_path) == str(tmp_path / 'epoch_2.pth')
    assert not list(tmp_path.glob('*' + PARTIAL))
    final = read_checkpoint(str(tmp_path / 'epoch_2.pth'))
    assert final['meta']['iter'] == straight['meta']['iter'] == 16
    for key, value in straight['state_dict'].items():
        torch.testing.assert_close(final['state_dict'][key], value, msg=key)
