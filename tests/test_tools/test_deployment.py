"""tools/deployment: TorchScript, ONNX and INT8 exports match eager."""
import glob
import os
import os.path as osp

import onnx
import pytest
import torch
import torch.nn.functional as F

from hjepa.apis import get_model
from hjepa.evaluation.features import encode
from hjepa.utils.checkpoint import CHECKPOINT_FORMAT
from tests.helpers import REPO, SMOKE
from tests.test_apis import conftest as apis_conftest
from tools.deployment import export as export_tool
from tools.deployment import verify as verify_tool
from tools.deployment.exporter import (ExportedModel, deploy_settings, export,
                                       read_metadata)

# the smoke checkpoint of tests/test_apis (target != context encoder)
smoke_checkpoint = apis_conftest.smoke_checkpoint
FORMATS = ('torchscript', 'onnx', 'onnx-int8')
DEPLOY_CFGS = sorted(glob.glob(osp.join(REPO, 'configs', 'deploy', '*.py')))
SUFFIX = {'torchscript': '.pt', 'onnx': '.onnx', 'onnx-int8': '_int8.onnx'}


@pytest.fixture(scope='module')
def model(smoke_checkpoint):
    return get_model(SMOKE, checkpoint=smoke_checkpoint)


@pytest.fixture(scope='module')
def exports(model, smoke_checkpoint, tmp_path_factory):
    """The smoke model in every format, with the default deploy configs."""
    out = tmp_path_factory.mktemp('exports')
    paths = {}
    for fmt in FORMATS:
        paths[fmt] = str(out / f'encoder{SUFFIX[fmt]}')
        export(model, deploy_settings(None, fmt), paths[fmt], SMOKE,
               smoke_checkpoint)
    return paths


def eager(model, images, encoder='target', pooling='avg'):
    with torch.no_grad():
        x = model.data_preprocessor(dict(inputs=images), False)['inputs']
        return encode(model, x, encoder, pooling)


def rel_max_diff(out, ref):
    return float((out - ref).abs().max() / ref.pow(2).mean().sqrt())


@pytest.mark.parametrize('fmt', FORMATS)
def test_export_matches_eager_at_any_batch(model, exports, fmt):
    meta = read_metadata(exports[fmt])
    assert meta['format'] == fmt and meta['dynamic_batch']
    assert meta['input_size'] == [32, 32] and meta['pooling'] == 'avg'
    if fmt != 'torchscript':
        onnx.checker.check_model(onnx.load(exports[fmt]))
    exported = ExportedModel(exports[fmt], threads=1)
    images = torch.randint(0, 256, (5, 3, 32, 32), dtype=torch.uint8)
    ref = eager(model, images)  # [5, 192]
    for n in (1, 5):  # one graph, two batch sizes
        out = exported.run(images[:n].float())  # 0-255, normalised inside
        assert out.shape == (n, 192)
        if fmt == 'onnx-int8':
            assert F.cosine_similarity(out, ref[:n]).min() > 0.99
        else:
            assert rel_max_diff(out, ref[:n]) < 1e-4


def test_int8_export_is_smaller(exports):
    assert os.path.getsize(
        exports['onnx-int8']) < 0.4 * os.path.getsize(exports['onnx'])


def test_export_cli_context_encoder_tokens(model, smoke_checkpoint, tmp_path):
    out = export_tool.main([
        SMOKE, smoke_checkpoint, '--format', 'onnx', '--encoder', 'context',
        '--pooling', 'tokens', '--out',
        str(tmp_path / 'ctx.onnx')
    ])
    meta = read_metadata(out)
    assert (meta['encoder'], meta['pooling']) == ('context', 'tokens')
    images = torch.randint(0, 256, (3, 3, 32, 32), dtype=torch.uint8)
    got = ExportedModel(out, threads=1)(images)
    ref = eager(model, images, 'context', 'tokens')  # [3, 64, 192]
    assert got.shape == ref.shape == (3, 64, 192)
    assert rel_max_diff(got, ref) < 1e-4
    # the context encoder is not the target one in this checkpoint
    assert rel_max_diff(got, eager(model, images, 'target', 'tokens')) > 1e-2


def test_fixed_batch_export_pads_the_last_batch(model, tmp_path):
    settings = deploy_settings(None, 'onnx', dynamic_batch=False)
    settings['batch_size'] = 4
    path = str(tmp_path / 'fixed.onnx')
    export(model, settings, path)
    exported = ExportedModel(path, threads=1)
    assert exported.meta['batch_size'] == 4
    images = torch.randint(0, 256, (6, 3, 32, 32), dtype=torch.uint8)
    assert rel_max_diff(exported(images), eager(model, images)) < 1e-4


def test_bad_export_settings_are_named(smoke_checkpoint, tmp_path):
    with pytest.raises(ValueError, match="for format 'onnx'.*'torchscript'"):
        deploy_settings('configs/deploy/encoder_onnx_dynamic-batch_32x32.py',
                        'torchscript')
    with pytest.raises(FileNotFoundError, match='nope.py'):
        deploy_settings('configs/deploy/nope.py', 'onnx')
    with pytest.raises(ValueError, match="pooling 'cat4'"):
        deploy_settings(None, 'onnx', pooling='cat4')
    with pytest.raises(ValueError, match=r'm\.pt: a onnx export must end'):
        export_tool.main([
            SMOKE, smoke_checkpoint, '--format', 'onnx', '--out',
            str(tmp_path / 'm.pt')
        ])


@pytest.fixture(scope='module')
def other_checkpoint(smoke_checkpoint, tmp_path_factory):
    """The smoke checkpoint with other target-encoder weights."""
    state = torch.load(smoke_checkpoint, weights_only=True)['state_dict']
    torch.manual_seed(1)
    for k, v in state.items():
        if k.startswith('target_encoder.') and v.is_floating_point():
            state[k] = v + 0.05 * torch.randn_like(v)
    path = tmp_path_factory.mktemp('other') / 'other.pth'
    torch.save(
        dict(meta=dict(hjepa_format=CHECKPOINT_FORMAT), state_dict=state),
        path)
    return str(path)


def verify_args(cifar_root, checkpoint, *exported):
    # 300 bank and 200 query images: one query is 0.5 k-NN points
    return [
        SMOKE, checkpoint, *exported, '--data-root', cifar_root, '--bank-size',
        '300', '--query-size', '200', '--num-images', '200', '--threads', '1',
        '--int8-knn-drop', '2.5'
    ]


def test_verify_passes_on_cifar(cifar_root, smoke_checkpoint, exports, capsys):
    paths = [exports[fmt] for fmt in FORMATS]
    assert verify_tool.main(verify_args(cifar_root, smoke_checkpoint,
                                        *paths)) == 0
    out = capsys.readouterr().out
    assert 'all 3 exports within tolerance' in out
    assert out.count(' ok') == 3


def test_verify_fails_on_other_weights(cifar_root, model, other_checkpoint,
                                       smoke_checkpoint, tmp_path, capsys):
    path = str(tmp_path / 'other.onnx')
    export(
        get_model(SMOKE, checkpoint=other_checkpoint),
        deploy_settings(None, 'onnx'), path)
    assert verify_tool.main(verify_args(cifar_root, smoke_checkpoint,
                                        path)) == 1
    assert 'FAIL: rel max|d|' in capsys.readouterr().out


def test_verify_names_a_bad_file(cifar_root, smoke_checkpoint, tmp_path):
    bad = tmp_path / 'junk.pt'
    bad.write_bytes(b'not a model')
    with pytest.raises(ValueError, match='junk.pt'):
        verify_tool.main(verify_args(cifar_root, smoke_checkpoint, str(bad)))


@pytest.mark.parametrize(
    'path', DEPLOY_CFGS, ids=[osp.basename(p) for p in DEPLOY_CFGS])
def test_deploy_configs_read(path):
    settings = deploy_settings(path)
    assert settings['format'] in FORMATS
    assert settings['input_size'] == (32, 32)
