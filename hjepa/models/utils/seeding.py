"""Per-step random generators that survive resuming and differ per rank."""
import torch
from mmengine.dist import get_rank


def step_generator(generator: torch.Generator, seed: int,
                   step: int) -> torch.Generator:
    """Reseed ``generator`` from ``(seed, rank, step)`` and return it.

    Draws made with it depend only on those three numbers, so a resumed run
    draws what the uninterrupted run drew at the same step, and each
    distributed rank draws differently.
    """
    mixed = (seed * 0x9E3779B1 + get_rank() * 0x85EBCA77 + step) % (2**63)
    return generator.manual_seed(mixed)
