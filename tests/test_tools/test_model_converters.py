"""Pretraining checkpoint -> backbone checkpoint, loaded by mmdet and mmseg."""
import os
import os.path as osp
import subprocess
import sys
import zipfile

import pytest
import torch

from hjepa.utils.checkpoint import (ENCODER_PREFIXES, MethodFreeHistoryBuffer,
                                    check_backbone_checkpoint,
                                    convert_pretrain_checkpoint,
                                    extract_encoder, load_checkpoint)
from tests.helpers import REPO
from tests.test_benchmarks.common import (DET_COCO, DET_COMPOSITE, SEG_ADE20K,
                                          SEG_COMPOSITE, TINY_ARCH, VIT_B,
                                          build_and_init,
                                          load_benchmark_config,
                                          save_pretrain_checkpoint)

# The checkpoint `make train` writes; another with HJEPA_PRETRAIN_CHECKPOINT.
MAKE_TRAIN_CKPT = os.environ.get(
    'HJEPA_PRETRAIN_CHECKPOINT',
    osp.join(REPO, 'work_dirs', 'main_job', 'epoch_22.pth'))


def encoder_weights(state_dict, encoder):
    prefix = ENCODER_PREFIXES[encoder]
    return {
        k[len(prefix):]: v
        for k, v in state_dict.items() if k.startswith(prefix)
    }


def assert_loaded_exactly(backbone, expected):
    got = backbone.state_dict()
    assert set(got) == set(expected), (
        f'missing {sorted(set(got) - set(expected))}, '
        f'unexpected {sorted(set(expected) - set(got))}')
    for name, value in expected.items():
        assert torch.equal(got[name], value), name


def pretrained(checkpoint):
    return dict(type='Pretrained', checkpoint=checkpoint, prefix='backbone.')


def test_extract_encoder_prefixes_and_picks():
    sd = {
        'backbone.a': torch.zeros(1),
        'target_encoder.a': torch.ones(1),
        'predictor.b': torch.ones(2)
    }
    target = extract_encoder(sd)
    assert list(target) == ['backbone.a'] and target['backbone.a'].item() == 1
    context = extract_encoder(sd, 'context', prefix='')
    assert list(context) == ['a'] and context['a'].item() == 0


@pytest.mark.parametrize('sd, encoder, match', [
    ({
        'head.fc.weight': torch.zeros(1)
    }, 'target', "'head'"),
    ({
        'backbone.a': torch.zeros(1)
    }, 'ema', 'ema'),
])
def test_extract_encoder_rejects_other_checkpoints(sd, encoder, match):
    with pytest.raises(ValueError, match=match):
        extract_encoder(sd, encoder)


def save_checkpoint_with_log_buffers(path):
    """A checkpoint as SafeCheckpointHook lets the runner save it."""
    from mmengine.logging import HistoryBuffer

    from hjepa.engine.hooks import SafeCheckpointHook
    buffer = HistoryBuffer()
    buffer.update(1.5)
    ckpt = dict(
        state_dict={'backbone.w': torch.ones(2)},
        message_hub=dict(log_scalars={'train/loss': buffer}))
    SafeCheckpointHook().before_save_checkpoint(None, ckpt)
    torch.save(ckpt, path)


def test_load_checkpoint_is_safe_without_hjepa_engine(tmp_path):
    path = str(tmp_path / 'ckpt.pth')
    save_checkpoint_with_log_buffers(path)
    code = ('import sys; from hjepa.utils.checkpoint import load_checkpoint; '
            'ckpt = load_checkpoint(sys.argv[1]); '
            "print(ckpt['message_hub']['log_scalars']['train/loss'].current(),"
            " 'hjepa.engine' in sys.modules)")
    result = subprocess.run([sys.executable, '-c', code, path],
                            cwd=REPO,
                            capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ['1.5', 'False']


def test_load_checkpoint_reads_buffers_saved_under_the_hook_module(
        tmp_path, monkeypatch):
    # checkpoints written when MethodFreeHistoryBuffer lived in the hook's
    # module name it there
    old = 'hjepa.engine.hooks.safe_checkpoint_hook'
    path = str(tmp_path / 'old.pth')
    monkeypatch.setattr(MethodFreeHistoryBuffer, '__module__', old)
    save_checkpoint_with_log_buffers(path)
    monkeypatch.undo()
    with zipfile.ZipFile(path) as archive:
        pickled = next(
            archive.read(name) for name in archive.namelist()
            if name.endswith('data.pkl'))
    assert old.encode() in pickled
    buffer = load_checkpoint(path)['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, MethodFreeHistoryBuffer)
    assert buffer.current() == 1.5


def test_cli_writes_a_safe_backbone_checkpoint(tmp_path):
    sd = save_pretrain_checkpoint(
        str(tmp_path / 'pretrain.pth'), backbone=dict(arch=TINY_ARCH))
    dst = tmp_path / 'backbone.pth'
    result = subprocess.run([
        sys.executable, 'tools/model_converters/hjepa_to_backbone.py',
        str(tmp_path / 'pretrain.pth'),
        str(dst), '--encoder', 'context'
    ],
                            cwd=REPO,
                            capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    out = torch.load(dst, weights_only=True)
    assert out['meta']['encoder'] == 'context'
    assert set(out['state_dict']) == {
        'backbone.' + k
        for k in encoder_weights(sd, 'context')
    }


def test_train_sh_refuses_an_unconverted_checkpoint(tmp_path):
    # its backbone.* keys are the context encoder's: they would load silently
    src = str(tmp_path / 'pretrain.pth')
    save_pretrain_checkpoint(src, backbone=dict(arch=TINY_ARCH))
    result = subprocess.run(
        ['bash', 'tools/benchmarks/mmdet/train.sh', DET_COMPOSITE, src, '1'],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHON=sys.executable))
    assert result.returncode != 0
    assert 'hjepa_to_backbone.py' in result.stderr
    assert 'Iter(train)' not in result.stdout + result.stderr

    dst = str(tmp_path / 'backbone.pth')
    convert_pretrain_checkpoint(src, dst)
    check_backbone_checkpoint(dst)  # the converted one passes
    with pytest.raises(ValueError, match='no detector'):
        check_backbone_checkpoint(dst, prefix='detector.')


@pytest.mark.parametrize('gpus', ['--work-dir', '0', '1.5'])
def test_finetune_sh_refuses_a_gpus_that_is_no_count(gpus):
    # `CONFIG random --work-dir DIR` (GPUS forgotten) fails before training
    result = subprocess.run([
        'bash', 'tools/benchmarks/finetune.sh', DET_COMPOSITE, 'random', gpus,
        'work_dirs/x'
    ],
                            cwd=REPO,
                            capture_output=True,
                            text=True,
                            env=dict(os.environ, PYTHON=sys.executable))
    assert result.returncode == 2
    assert f"GPUS '{gpus}' must be a positive integer" in result.stderr


@pytest.mark.parametrize('encoder', ['target', 'context'])
def test_backbone_loads_into_detector_and_segmentor(tmp_path, encoder):
    sd = save_pretrain_checkpoint(
        str(tmp_path / 'pretrain.pth'), backbone=dict(arch=TINY_ARCH))
    expected = encoder_weights(sd, encoder)
    assert not torch.equal(  # the two encoders differ, as after EMA
        expected['blocks.0.attn.qkv.weight'],
        encoder_weights(sd, 'target' if encoder == 'context' else
                        'context')['blocks.0.attn.qkv.weight'])
    dst = str(tmp_path / 'backbone.pth')
    convert_pretrain_checkpoint(str(tmp_path / 'pretrain.pth'), dst, encoder)

    det = load_benchmark_config(
        DET_COMPOSITE, arch=TINY_ARCH, init_cfg=pretrained(dst))
    seg = load_benchmark_config(
        SEG_COMPOSITE,
        arch=TINY_ARCH,
        out_indices=(0, 1, 2, 3),
        init_cfg=pretrained(dst))
    for cfg in (det, seg):
        assert_loaded_exactly(build_and_init(cfg).backbone, expected)


@pytest.fixture(scope='module')
def vit_b_backbone(tmp_path_factory):
    """A converted checkpoint of configs/hjepa/vit-b_in1k.py (with a
    one-block predictor, which the conversion drops anyway)."""
    folder = tmp_path_factory.mktemp('vit_b')
    sd = save_pretrain_checkpoint(
        str(folder / 'pretrain.pth'), VIT_B, predictor=dict(num_layers=1))
    convert_pretrain_checkpoint(
        str(folder / 'pretrain.pth'), str(folder / 'backbone.pth'))
    os.remove(folder / 'pretrain.pth')
    return str(folder / 'backbone.pth'), encoder_weights(sd, 'target')


@pytest.mark.parametrize(
    'path', [DET_COCO, SEG_ADE20K], ids=['coco-mask-rcnn', 'ade20k-upernet'])
def test_coco_and_ade20k_configs_load_a_vit_b_checkpoint(path, vit_b_backbone):
    checkpoint, expected = vit_b_backbone
    cfg = load_benchmark_config(path, init_cfg=pretrained(checkpoint))
    model = build_and_init(cfg)
    assert type(model).__name__ in ('MaskRCNN', 'EncoderDecoder')
    assert model.backbone.patch_size == 16 and model.backbone.embed_dims == 768
    assert_loaded_exactly(model.backbone, expected)


@pytest.mark.skipif(
    not osp.isfile(MAKE_TRAIN_CKPT),
    reason=f'no make train checkpoint at {MAKE_TRAIN_CKPT}')
@pytest.mark.parametrize(
    'path', [DET_COMPOSITE, SEG_COMPOSITE], ids=['mask-rcnn', 'upernet'])
def test_make_train_checkpoint_loads_unchanged_configs(tmp_path, path):
    dst = str(tmp_path / 'backbone.pth')
    convert_pretrain_checkpoint(MAKE_TRAIN_CKPT, dst)
    sd = load_checkpoint(MAKE_TRAIN_CKPT)['state_dict']
    cfg = load_benchmark_config(path, init_cfg=pretrained(dst))
    assert_loaded_exactly(
        build_and_init(cfg).backbone, encoder_weights(sd, 'target'))
