"""One strict, safe loader: errors that name the file, the keys and what
file was probably meant."""
import os

import pytest
import torch
from mmengine.config import Config

from hjepa.registry import MODELS
from hjepa.utils.checkpoint import (CHECKPOINT_FORMAT, CheckpointError,
                                    check_model_checkpoint,
                                    convert_pretrain_checkpoint,
                                    load_model_weights, read_checkpoint)
from tests.helpers import SMOKE

NARROW = dict(name='tiny', num_layers=2, embed_dims=96, num_heads=3)


def build(proj=False, **backbone):
    """The smoke config's model; ``proj``: with a projection on level 1."""
    cfg = Config.fromfile(SMOKE)
    cfg.model.backbone.update(backbone)
    cfg.model.head.levels[1]['proj'] = proj
    return MODELS.build(cfg.model)


def save(path, model, **meta):
    torch.save(dict(meta=meta, state_dict=model.state_dict()), path)
    return str(path)


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """A smoke-config checkpoint whose target encoder is not the one a
    fresh model starts with."""
    torch.manual_seed(1)
    model = build()
    with torch.no_grad():
        for p in model.target_encoder.parameters():
            p.add_(1.0)
    path = tmp_path_factory.mktemp('ckpt') / 'pretrain.pth'
    return save(path, model, hjepa_format=CHECKPOINT_FORMAT), model


def test_read_checkpoint_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nothing.pth'):
        read_checkpoint(str(tmp_path / 'nothing.pth'))


@pytest.mark.parametrize('content', ['truncated', 'text', 'empty'])
def test_read_checkpoint_unreadable_file(tmp_path, trained, content):
    path = tmp_path / 'bad.pth'
    data = open(trained[0], 'rb').read()
    path.write_bytes({
        'truncated': data[:len(data) // 2],
        'text': b'not a checkpoint\n',
        'empty': b''
    }[content])
    with pytest.raises(CheckpointError) as info:
        read_checkpoint(str(path))
    assert str(info.value).startswith(
        f'cannot read checkpoint {path}: truncated or not a PyTorch file (')


class Payload:

    def __reduce__(self):
        return (os.system, ('echo unsafe', ))


def test_read_checkpoint_refuses_pickled_code(tmp_path):
    path = tmp_path / 'payload.pth'
    torch.save({'state_dict': {}, 'x': Payload()}, path)
    with pytest.raises(CheckpointError) as info:
        read_checkpoint(str(path))
    msg = str(info.value)
    assert str(path) in msg and 'safe loading' in msg and 'system' in msg


def test_load_model_weights_loads_the_encoder(trained):
    path, source = trained
    model = build()
    assert not torch.equal(model.target_encoder.patch_embed.weight,
                           source.target_encoder.patch_embed.weight)
    assert load_model_weights(model, path) == []
    for key, value in source.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key


def test_load_model_weights_rejects_another_width(tmp_path, trained):
    path = save(tmp_path / 'narrow.pth', build(arch=NARROW))
    with pytest.raises(CheckpointError) as info:
        load_model_weights(build(), path)
    msg = str(info.value)
    assert msg.startswith(f'checkpoint {path} does not match the target '
                          'encoder')
    # the first mismatched key with both shapes
    assert ('target_encoder.patch_embed.weight (checkpoint [96, 3, 4, 4], '
            'model [192, 3, 4, 4])') in msg
    assert 'another model config' in msg


@pytest.mark.parametrize('encoder', ['target', 'context'])
def test_load_model_weights_rejects_a_backbone_checkpoint(
        tmp_path, trained, encoder):
    backbone = str(tmp_path / 'backbone.pth')
    convert_pretrain_checkpoint(trained[0], backbone)
    with pytest.raises(CheckpointError) as info:
        load_model_weights(build(), backbone, encoder)
    msg = str(info.value)
    assert backbone in msg and 'hjepa_to_backbone.py' in msg
    assert f'converted from ({trained[0]})' in msg


def test_load_model_weights_names_a_pretraining_checkpoint(trained):
    """The reverse: a model of backbone.* keys given a pretraining one."""

    class Classifier(torch.nn.Module):

        def __init__(self):
            super().__init__()
            self.backbone = build(arch=NARROW).backbone

    with pytest.raises(
            CheckpointError,
            match='convert it with tools/model_'
            'converters/hjepa_to_backbone.py'):
        load_model_weights(Classifier(), trained[0])


def test_load_model_weights_migrates_old_layouts(tmp_path):
    state_dict = build(proj=True).state_dict()
    old = {
        k.replace('head.projs.', 'neck.heads.'): v
        for k, v in state_dict.items()
    }
    assert old.keys() != state_dict.keys(), 'no key of layout 1 to test'
    path = tmp_path / 'v1.pth'
    torch.save(dict(meta=dict(hjepa_format=1), state_dict=old), path)
    model = build(proj=True)
    assert load_model_weights(model, str(path)) == []
    check_model_checkpoint(model, str(path))
    for key, value in state_dict.items():
        assert torch.equal(model.state_dict()[key], value), key


@pytest.mark.parametrize('meta', [dict(hjepa_format=2), None])
def test_format_2_loads_without_its_second_step_counter(tmp_path, meta):
    """Format 2 saved the data preprocessor's own ``num_steps`` beside the
    model's; it is dropped (the version from the meta, or found from the
    key), and nothing else changes."""
    model = build()
    state_dict = dict(model.state_dict())
    state_dict['data_preprocessor.num_steps'] = torch.tensor(5)
    path = tmp_path / 'v2.pth'
    torch.save(
        dict(
            state_dict=state_dict,
            **({} if meta is None else dict(meta=meta))), path)
    fresh = build()
    assert load_model_weights(fresh, str(path)) == []
    check_model_checkpoint(fresh, str(path))
    assert 'data_preprocessor.num_steps' not in fresh.state_dict()
    # a current checkpoint holding it would be a mistake, not a migration
    path3 = tmp_path / 'v3.pth'
    torch.save(
        dict(meta=dict(hjepa_format=CHECKPOINT_FORMAT), state_dict=state_dict),
        path3)
    with pytest.raises(CheckpointError, match='data_preprocessor.num_steps'):
        check_model_checkpoint(fresh, str(path3))


def test_check_model_checkpoint_is_strict_about_every_key(tmp_path, trained):
    model = build()
    check_model_checkpoint(model, trained[0])
    state_dict = dict(trained[1].state_dict())
    state_dict['predictor.extra'] = torch.zeros(2)
    path = tmp_path / 'extra.pth'
    torch.save(dict(state_dict=state_dict), path)
    with pytest.raises(CheckpointError, match=r'unexpected: predictor.extra'):
        check_model_checkpoint(model, str(path))


@pytest.mark.parametrize('saved_multiway', [False, True])
def test_a_predictor_of_the_other_kind_is_named(tmp_path, saved_multiway):
    """A checkpoint of the shared predictor (the CPU default before the
    multiway one) resumed with a multiway config, or the other way round:
    the error says which setting the checkpoint was written with."""

    def model_of(multiway):
        cfg = Config.fromfile(SMOKE)
        cfg.model.predictor.multiway = multiway
        return MODELS.build(cfg.model)

    path = save(tmp_path / 'other.pth', model_of(saved_multiway))
    with pytest.raises(CheckpointError) as info:
        check_model_checkpoint(model_of(not saved_multiway), path)
    assert 'predictor.query_' in str(info.value)
    assert f'model.predictor.multiway={saved_multiway}' in str(info.value)


def test_a_query_stream_of_another_depth_is_named(tmp_path):
    """A multiway checkpoint whose query stream ran through another number
    of predictor blocks (``query_depth``): the error names the setting the
    checkpoint was written with."""

    def model_of(depth):
        cfg = Config.fromfile(SMOKE)
        cfg.model.predictor.update(
            multiway=True, num_layers=2, query_depth=depth)
        return MODELS.build(cfg.model)

    path = save(tmp_path / 'late.pth', model_of(1))
    with pytest.raises(CheckpointError) as info:
        check_model_checkpoint(model_of(None), path)
    assert 'model.predictor.query_depth=1, the config has 2' in str(info.value)


def test_convert_refuses_to_overwrite_its_source(trained):
    with pytest.raises(ValueError, match='would overwrite'):
        convert_pretrain_checkpoint(trained[0], trained[0])
    read_checkpoint(trained[0])  # still the pretraining checkpoint
