import pytest
import torch

from hjepa.models import HJEPADataPreprocessor


def test_normalises_and_stacks_lists():
    pre = HJEPADataPreprocessor(mean=(0, 0, 0), std=(255, 255, 255))
    imgs = [torch.full((3, 4, 4), 255, dtype=torch.uint8)] * 2
    out = pre(dict(inputs=imgs, data_samples=[1, 2]), training=False)
    assert out['inputs'].shape == (2, 3, 4, 4)
    assert torch.allclose(out['inputs'], torch.ones(2, 3, 4, 4))
    assert out['data_samples'].tolist() == [1, 2]


def test_batch_augment_is_deterministic_per_step():
    x = torch.randint(0, 256, (8, 3, 32, 32), dtype=torch.uint8)
    steps = dict(a=0, b=0)
    a = HJEPADataPreprocessor(batch_augment=dict(), seed=1)
    b = HJEPADataPreprocessor(batch_augment=dict(), seed=1)
    a.step_source, b.step_source = lambda: steps['a'], lambda: steps['b']
    first = a(dict(inputs=x), True)['inputs']
    assert torch.equal(first, b(dict(inputs=x), True)['inputs'])
    assert torch.equal(first, a(dict(inputs=x), True)['inputs'])  # same step
    steps['a'] = 1
    second = a(dict(inputs=x), True)['inputs']
    assert not torch.equal(first, second)  # a new draw every step
    plain = a(dict(inputs=x), False)['inputs']  # no augmentation in eval
    assert not torch.equal(plain, first)
    # one step counter, the model's: the preprocessor saves none
    assert 'num_steps' not in a.state_dict()


def test_batch_augment_needs_the_model_step():
    pre = HJEPADataPreprocessor(batch_augment=dict())
    x = torch.zeros(2, 3, 8, 8, dtype=torch.uint8)
    with pytest.raises(RuntimeError, match='step_source'):
        pre(dict(inputs=x), True)
    pre(dict(inputs=x), False)  # evaluation draws nothing


def test_the_model_owns_the_step():
    from tests.test_models.test_hjepa import PATCH, build
    model = build([PATCH], (1.0, ),
                  data_preprocessor=dict(
                      type='HJEPADataPreprocessor', batch_augment=dict()))
    model.num_steps.fill_(7)
    assert model.data_preprocessor.step_source() == 7
    assert [k for k in model.state_dict() if k.endswith('num_steps')] == \
        ['num_steps']


def test_full_crop_without_flip_is_identity():
    x = torch.randint(0, 256, (2, 3, 8, 8), dtype=torch.uint8)
    pre = HJEPADataPreprocessor(
        mean=(0, 0, 0),
        std=(1, 1, 1),
        batch_augment=dict(
            crop_scale=(1.0, 1.0), crop_ratio=(1.0, 1.0), flip_prob=0.0))
    pre.step_source, pre.seed = lambda: 0, 0  # HJEPA sets both
    out = pre(dict(inputs=x), True)['inputs']
    torch.testing.assert_close(out, x.float())


def test_flip_mirrors():
    x = torch.randint(0, 256, (2, 3, 8, 8), dtype=torch.uint8)
    pre = HJEPADataPreprocessor(
        mean=(0, 0, 0),
        std=(1, 1, 1),
        batch_augment=dict(
            crop_scale=(1.0, 1.0), crop_ratio=(1.0, 1.0), flip_prob=1.0))
    pre.step_source, pre.seed = lambda: 0, 0  # HJEPA sets both
    out = pre(dict(inputs=x), True)['inputs']
    torch.testing.assert_close(out, x.float().flip(-1))


def test_bad_augment_keys():
    with pytest.raises(ValueError, match='unknown batch_augment'):
        HJEPADataPreprocessor(batch_augment=dict(colour=1))
    with pytest.raises(ValueError, match='crop_scale'):
        HJEPADataPreprocessor(batch_augment=dict(crop_scale=(0.5, 2.0)))


def test_color_jitter_identity_and_range():
    from hjepa.models import BatchColorJitter
    x = torch.rand(4, 3, 8, 8) * 255
    still = BatchColorJitter(0, 0, 0, 0, mean=(0, 0, 0), std=(1, 1, 1))
    torch.testing.assert_close(still(x, torch.Generator()), x)
    gray = BatchColorJitter(
        0, 0, 0, grayscale_prob=1.0, prob=1.0, mean=(0, 0, 0), std=(1, 1, 1))
    out = gray(x, torch.Generator())
    assert torch.allclose(out[:, 0], out[:, 1])
    jitter = BatchColorJitter(prob=1.0, mean=(0, 0, 0), std=(1, 1, 1))
    a = jitter(x, torch.Generator().manual_seed(0))
    b = jitter(x, torch.Generator().manual_seed(0))
    assert torch.equal(a, b) and not torch.equal(a, x)
    assert a.min() >= 0 and a.max() <= 255
    with pytest.raises(ValueError, match='brightness'):
        BatchColorJitter(brightness=1.5)
