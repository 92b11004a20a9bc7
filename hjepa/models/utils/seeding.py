"""Per-step random generators that survive resuming and differ per rank."""
import torch
from mmengine.dist import get_rank

# Streams of draws that must not coincide.
AUGMENT_STREAM = 0
MASK_STREAM = 1
CONTEXT_AUGMENT_STREAM = 2
REG_STREAM = 3
CROP_STREAM = 4
QUERY_STREAM = 5  # the regions sampling levels ask about
# Mask set ``r`` of a step (``HJEPA(mask_sets=...)``) draws its masks,
# context augmentation and regulariser directions from ``stream + r *
# SET_STRIDE``; set 0 draws what a one-set step draws. Every stream above
# must stay below it, or a set would draw another stream's numbers.
SET_STRIDE = 8


def step_generator(generator: torch.Generator,
                   seed: int,
                   step: int,
                   stream: int = 0) -> torch.Generator:
    """Reseed ``generator`` from ``(seed, stream, rank, step)``, return it.

    Draws made with it depend only on those numbers, so a resumed run draws
    what the uninterrupted run drew at the same step, each distributed rank
    draws differently, and each ``stream`` (masks, augmentation) draws
    independently of the others.
    """
    mixed = (seed * 0x9E3779B1 + stream * 0xC2B2AE3D +
             get_rank() * 0x85EBCA77 + step) % (2**63)
    return generator.manual_seed(mixed)
