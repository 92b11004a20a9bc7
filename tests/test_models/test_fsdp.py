"""H-JEPA under PyTorch's FSDP, wrapped the way the README says (each
encoder and each transformer block a unit of its own): FSDP1 as mmengine's
``FSDPStrategy`` drives it, and FSDP2's ``fully_shard``. Training steps
(masks, loss, backward, AdamW, EMA update) must equal the unwrapped
model's. Needs a CUDA device: torch 2.6 refuses FSDP1 on a CPU and FSDP2's
all-gather fails on Gloo there. One process (world size 1), so it runs on
any one-GPU machine (two ranks on one card need Gloo, since NCCL refuses
two ranks on one device, and there a rank died with SIGSEGV, torch 2.11 on
an H200); on a bare machine ``pytest --noconftest`` runs it with torch,
mmengine and pytest only (``tools/benchmarks/gpu_rows.sh`` does). At world
size 1 FSDP1 switches to ``NO_SHARD`` (the wrapping, its hooks and the EMA
through it are what is checked), while FSDP2 keeps its parameters as
DTensors on a mesh of one, so the EMA's ``_foreach_lerp_`` runs on
DTensors. Wrapping the whole model as one unit is refused by FSDP1 itself
(mixed ``requires_grad`` with ``use_orig_params=False``); ``test_hjepa.py``
checks that the EMA update refuses encoders a wrapper flattened.
"""
import os

import pytest
import torch

from tests.test_models.test_hjepa import PATCH
from tests.test_models.test_hjepa import build as hjepa_model

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason='FSDP needs a CUDA device (FSDP1 refuses a CPU one on torch 2.6, '
    "FSDP2's all-gather fails on Gloo there)")

STEPS = 3


@pytest.fixture(scope='module')
def process_group():
    import torch.distributed as dist
    if dist.is_initialized():
        yield
        return
    os.environ.setdefault('MASTER_ADDR', '127.0.0.1')
    os.environ.setdefault('MASTER_PORT', '29517')
    dist.init_process_group('nccl', world_size=1, rank=0)
    torch.cuda.set_device(0)
    yield
    dist.destroy_process_group()


def build():
    """test_hjepa's small model with the CPU default's centred regions."""
    torch.manual_seed(0)
    levels = [
        PATCH,
        dict(kind='region', grid=2, center=True),
        dict(kind='region', grid=4, center=True)
    ]
    return hjepa_model(levels=levels, pred_layers=2).cuda()


def unit_classes():
    from hjepa.models import HJEPAPredictor, HJEPAViT
    from hjepa.models.utils.layers import TransformerBlock
    return {TransformerBlock, HJEPAViT, HJEPAPredictor}


def train(model, wrapped, steps=STEPS):
    """Losses of ``steps`` training steps of ``wrapped`` (``model`` is the
    H-JEPA inside it) and the target encoder's tensors after them."""
    optimizer = torch.optim.AdamW(
        [p for p in wrapped.parameters() if p.requires_grad], lr=1e-3)
    gen = torch.Generator().manual_seed(1)
    losses = []
    for _ in range(steps):
        images = torch.randn(8, 3, 32, 32, generator=gen).cuda()
        parts = wrapped(images, mode='loss')
        loss = sum(v for k, v in parts.items() if k.startswith('loss'))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        model.update_target_encoder(0.9)
        losses.append(loss.item())
    target = [
        p.full_tensor() if hasattr(p, 'full_tensor') else p
        for p in model.target_encoder.parameters()
    ]
    return losses, [t.detach().clone() for t in target]


@pytest.fixture(scope='module')
def reference():
    model = build()
    return train(model, model)


def assert_same(run, reference):
    losses, target = run
    ref_losses, ref_target = reference
    # fp32 on the same card, one rank: the same arithmetic
    torch.testing.assert_close(
        torch.tensor(losses), torch.tensor(ref_losses), rtol=1e-5, atol=0)
    assert ref_losses[0] != ref_losses[-1]  # it trained
    assert len(target) == len(ref_target)
    for t, r in zip(target, ref_target):
        torch.testing.assert_close(t, r, rtol=1e-5, atol=1e-7)


def test_fsdp1_units_per_encoder_and_block(process_group, reference):
    from torch.distributed.fsdp import FullyShardedDataParallel
    from torch.distributed.fsdp.wrap import ModuleWrapPolicy
    model = build()
    wrapped = FullyShardedDataParallel(
        model,
        auto_wrap_policy=ModuleWrapPolicy(unit_classes()),
        use_orig_params=True,
        device_id=torch.cuda.current_device())
    assert_same(train(model, wrapped), reference)


def test_fsdp2_fully_shard_per_encoder_and_block(process_group, reference):
    try:
        from torch.distributed.fsdp import fully_shard
    except ImportError:  # torch < 2.6
        from torch.distributed._composable.fsdp import fully_shard
    model = build()
    classes = tuple(unit_classes())
    # bottom-up: every block before the encoder or predictor holding it
    for module in reversed(list(model.modules())):
        if isinstance(module, classes):
            fully_shard(module)
    fully_shard(model)
    assert_same(train(model, model), reference)
