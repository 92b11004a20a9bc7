"""tools/test.py and tools/train.py --resume refuse checkpoints that do not
fit the config, with one clear message instead of a wrong result."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from hjepa.registry import MODELS
from hjepa.utils.checkpoint import convert_pretrain_checkpoint
from tests.helpers import REPO, SMOKE
from tests.test_tools.test_tools import data_options


def run_tool(args):
    env = dict(os.environ)
    env.setdefault('OMP_NUM_THREADS', '1')
    return subprocess.run(
        [sys.executable] + args,
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True)


def save_smoke_checkpoint(path, **backbone):
    cfg = Config.fromfile(SMOKE)
    cfg.model.backbone.update(backbone)
    model = MODELS.build(cfg.model)
    torch.save(dict(meta=dict(epoch=1), state_dict=model.state_dict()), path)
    return str(path)


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    folder = tmp_path_factory.mktemp('strict')
    pretrain = save_smoke_checkpoint(folder / 'epoch_1.pth')
    backbone = str(folder / 'backbone.pth')
    convert_pretrain_checkpoint(pretrain, backbone)
    wide = save_smoke_checkpoint(
        folder / 'wide.pth',
        arch=dict(name='tiny', num_layers=2, embed_dims=96, num_heads=3))
    return dict(pretrain=pretrain, backbone=backbone, wide=wide)


def last_line(result):
    return result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize('kind', ['backbone', 'wide'])
def test_test_py_refuses_a_checkpoint_that_does_not_fit(
        tmp_path, cifar_root, checkpoints, kind):
    ckpt = checkpoints[kind]
    result = run_tool([
        'tools/test.py', SMOKE, ckpt, '--work-dir',
        str(tmp_path), '--cfg-options'
    ] + data_options(cifar_root))
    assert result.returncode != 0
    msg = last_line(result)
    assert msg.startswith(f'error: checkpoint {ckpt} does not match the '
                          'target encoder'), msg
    assert 'top1' not in result.stdout  # nothing was evaluated
    if kind == 'backbone':
        assert 'hjepa_to_backbone.py' in msg and checkpoints['pretrain'] in msg
    else:
        assert ('target_encoder.patch_embed.weight (checkpoint [96, 3, 4, 4],'
                ' model [192, 3, 4, 4])') in msg


def test_resume_into_a_work_dir_without_checkpoints_fails(tmp_path):
    result = run_tool(
        ['tools/train.py', SMOKE, '--work-dir',
         str(tmp_path), '--resume'])
    assert result.returncode != 0
    msg = last_line(result)
    assert msg.startswith('error: --resume found no checkpoint to resume: '
                          f'{tmp_path} has no last_checkpoint file'), msg
    assert not list(tmp_path.glob('*.pth'))  # nothing started from scratch


@pytest.mark.parametrize('how', ['path', 'auto'])
def test_resume_of_another_model_fails_before_training(tmp_path, checkpoints,
                                                       how):
    args = ['tools/train.py', SMOKE, '--work-dir', str(tmp_path), '--resume']
    if how == 'path':
        args.append(checkpoints['wide'])
    else:
        (tmp_path / 'last_checkpoint').write_text(checkpoints['wide'])
    result = run_tool(args)
    assert result.returncode != 0
    msg = last_line(result)
    assert msg.startswith(f'error: cannot resume: checkpoint '
                          f'{checkpoints["wide"]} does not match the model'), \
        msg
    assert 'AdamW' not in result.stderr and 'Traceback' not in result.stderr
    assert not osp.exists(tmp_path / 'epoch_1.pth')
