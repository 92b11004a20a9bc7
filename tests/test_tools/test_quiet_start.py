"""The first progress line of tools/train.py appears within a screen."""
import os
import subprocess
import sys

import pytest

from tests.helpers import REPO, SMOKE
from tests.test_tools.test_tools import data_options


@pytest.mark.slow
def test_first_progress_line_within_a_screen(tmp_path, cifar_root):
    env = dict(os.environ)
    env.setdefault('OMP_NUM_THREADS', '1')
    result = subprocess.run(
        [
            sys.executable, 'tools/train.py', SMOKE, '--work-dir',
            str(tmp_path), '--cfg-options', 'train_cfg.max_epochs=1'
        ] + data_options(cifar_root),
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = (result.stdout + result.stderr).splitlines()
    first = next(i for i, line in enumerate(lines)
                 if 'Epoch(train)' in line or 'Iter(train)' in line)
    assert first <= 60, '\n'.join(lines[:first])
    assert not [line for line in lines if 'is skipped since' in line]
    # what the console leaves out is in the log file
    log, = tmp_path.glob('*/*.log')
    text = log.read_text()
    assert 'Config:' in text and 'Hooks will be executed' in text
    assert f'environment, config and hooks: in {log}' in result.stdout
    assert 'target_encoder.patch_embed.weight is skipped' not in text
