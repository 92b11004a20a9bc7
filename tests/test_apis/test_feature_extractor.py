"""Embeddings of your own images: the README's three lines, input kinds,
poolings and encoders."""
import numpy as np
import pytest
import torch
from PIL import Image

from hjepa.apis import FeatureExtractor, get_model, register_model
from tests.helpers import SMOKE

# The README's lines (README: "Use a trained encoder"), run as they are.
README_LINES = """
from hjepa.apis import get_model, FeatureExtractor
model = get_model('hjepa_vit-tiny-d6-p4_cifar10', pretrained=True)
feats = FeatureExtractor(model)('path/to/folder')
"""


def images(n=3, size=32, seed=0):
    """``n`` random RGB uint8 images [n, size, size, 3]."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def write_folder(folder, arrays):
    folder.mkdir(parents=True)
    paths = []
    for i, a in enumerate(arrays):
        paths.append(str(folder / f'img_{i}.png'))
        Image.fromarray(a).save(paths[-1])
    return paths


@pytest.fixture(scope='module')
def model(smoke_checkpoint):
    return get_model(SMOKE, checkpoint=smoke_checkpoint)


def test_readme_lines(home, tmp_path, monkeypatch, smoke_checkpoint, model):
    # a smoke checkpoint stands for the `make train` one
    register_model('hjepa_vit-tiny-d6-p4_cifar10', SMOKE, smoke_checkpoint)
    arrays = images(5)
    write_folder(tmp_path / 'path' / 'to' / 'folder', arrays)
    monkeypatch.chdir(tmp_path)
    scope = {}
    exec(README_LINES, scope)
    feats = scope['feats']
    assert feats.shape == (5, 192) and feats.dtype == torch.float32
    assert torch.equal(feats, FeatureExtractor(model)(arrays))


def test_every_input_kind_gives_the_same_features(tmp_path, model):
    arrays = images(3)
    paths = write_folder(tmp_path / 'imgs', arrays)
    tensor = torch.from_numpy(arrays).permute(0, 3, 1, 2)  # [N, 3, H, W]
    extract = FeatureExtractor(model, batch_size=2)
    expected = extract(arrays)
    assert expected.shape == (3, 192)
    kinds = {
        'folder': str(tmp_path / 'imgs'),
        'paths': paths,
        'pathlib': [tmp_path / 'imgs' / 'img_0.png'] + paths[1:],
        'pil': [Image.open(p) for p in paths],
        'arrays': list(arrays),
        'tensor': tensor,
        'tensors': list(tensor),
        'mixed': [paths[0], Image.fromarray(arrays[1]), tensor[2]],
    }
    for kind, value in kinds.items():
        assert torch.equal(extract(value), expected), kind
    floats = extract(tensor.float() / 255)
    torch.testing.assert_close(floats, expected, rtol=1e-4, atol=1e-4)
    one = extract(paths[1])  # a single image
    assert torch.equal(one, expected[1:2])


def test_images_are_resized_to_the_model(model):
    big = images(2, size=64, seed=1)
    gray = images(1, size=48, seed=2)[0, ..., 0]  # [H, W]
    feats = FeatureExtractor(model)([*big, gray])
    assert feats.shape == (3, 192) and torch.isfinite(feats).all()


@pytest.mark.parametrize('bad, error', [
    (torch.rand(3, 32, 32) * 255, 'must be in \\[0, 1\\]'),
    (np.zeros((32, 32, 5), np.uint8), 'expected an image'),
    (torch.zeros(2, 32, 32, dtype=torch.uint8), 'channels'),
    (42, 'cannot read images from a int'),
])
def test_bad_inputs_are_refused(model, bad, error):
    with pytest.raises((ValueError, TypeError), match=error):
        FeatureExtractor(model)(bad)


def test_pooling_shapes(model):
    x = images(2)
    avg = FeatureExtractor(model, pooling='avg')(x)
    cat = FeatureExtractor(model, pooling='cat4')(x)
    tokens = FeatureExtractor(model, pooling='tokens')(x)
    depth = model.target_encoder.num_layers  # 2: cat4 holds 2 layers
    assert avg.shape == (2, 192)
    assert cat.shape == (2, min(4, depth) * 192)
    assert tokens.shape == (2, 64, 192)  # 32 / 4 = 8 x 8 patches
    torch.testing.assert_close(cat[:, -192:], avg)
    torch.testing.assert_close(tokens.mean(1), avg)
    layers = FeatureExtractor(model, out_layers=[0, -1])(x)
    assert isinstance(layers, tuple) and len(layers) == 2
    torch.testing.assert_close(layers[1], avg)
    torch.testing.assert_close(
        FeatureExtractor(model, pooling='cat4', out_layers=[0, 1])(x), cat)
    with pytest.raises(ValueError, match='out of range'):
        FeatureExtractor(model, out_layers=[5])(x)
    with pytest.raises(ValueError, match='pooling'):
        FeatureExtractor(model, pooling='max')


def test_target_and_context_encoders(model):
    x = images(2)
    target = FeatureExtractor(model, encoder='target')(x)
    context = FeatureExtractor(model, encoder='context')(x)
    assert not torch.allclose(target, context)  # the checkpoint's differ
    state = {
        k: v.clone()
        for k, v in model.target_encoder.state_dict().items()
    }
    try:
        model.target_encoder.load_state_dict(model.backbone.state_dict())
        assert torch.equal(
            FeatureExtractor(model, encoder='target')(x), context)
    finally:
        model.target_encoder.load_state_dict(state)
