"""The random disk transforms draw from a generator of their own, seeded
by the run's one seed, never from the global ``random``."""
import random

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from hjepa.datasets import JEPARandomFlip, JEPARandomResizedCrop

IMG = np.arange(30 * 40 * 3, dtype=np.uint8).reshape(30, 40, 3)


def crop(rng=None, img=IMG):
    return JEPARandomResizedCrop(16, rng=rng)(dict(img=img))['img']


def test_a_given_generator_decides_the_draws():
    random.seed(0)
    before = random.getstate()
    assert np.array_equal(crop(random.Random(3)), crop(random.Random(3)))
    assert not np.array_equal(crop(random.Random(3)), crop(random.Random(4)))
    flips = [
        JEPARandomFlip(0.5, rng=random.Random(s))(dict(img=IMG))['img']
        for s in range(8)
    ]
    assert {np.array_equal(f, IMG[:, ::-1]) for f in flips} == {True, False}
    assert random.getstate() == before  # the global stream is untouched


def test_the_default_stream_follows_the_torch_seed():
    random.seed(0)
    before = random.getstate()
    torch.manual_seed(5)
    first = [crop() for _ in range(3)]
    torch.manual_seed(5)
    again = [crop() for _ in range(3)]
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[0], first[1])  # a new draw each call
    assert random.getstate() == before


class Crops(Dataset):

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return torch.from_numpy(crop(img=np.roll(IMG, i, axis=1)).copy())


def epochs(seed, workers=2, num_epochs=2):
    loader = DataLoader(
        Crops(),
        batch_size=2,
        num_workers=workers,
        generator=torch.Generator().manual_seed(seed))
    return [torch.cat(list(loader)) for _ in range(num_epochs)]


def test_workers_draw_from_the_loader_seed_and_epochs_differ():
    first, second = epochs(0)
    assert not torch.equal(first, second)  # a new epoch, new crops
    again = epochs(0)
    assert torch.equal(first, again[0]) and torch.equal(second, again[1])
    assert not torch.equal(first, epochs(1)[0])
