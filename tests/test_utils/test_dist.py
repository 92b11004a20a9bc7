"""The evaluation's distributed helpers, in one process (no process group:
what they reduce to) and under DDP on two CPU processes (gloo)."""
import os
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from hjepa.utils.dist import gather_in_order, on_rank0, unwrap_model


def test_single_process():
    calls = []

    def fn():
        calls.append(1)
        time.sleep(0.01)
        return dict(a=1.0)

    out = on_rank0(fn, timed=True)
    assert calls == [1] and out['a'] == 1.0 and out['seconds'] >= 0.01
    assert gather_in_order([3, 4, 5, 6], 3) == [3, 4, 5]
    net = torch.nn.Linear(2, 2)
    assert unwrap_model(net) is net


def _worker(rank, port, out):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=2)
    try:
        calls = []
        result = on_rank0(lambda: calls.append(rank) or dict(rank=rank))
        # a distributed sampler's shares: rank r reads samples r, r + 2, ...
        # of 5 (rank 1 pads with sample 0)
        share = [0, 2, 4] if rank == 0 else [1, 3, 0]
        rows = gather_in_order([f's{i}' for i in share], 5)
        out[rank] = (result, calls, rows)
    finally:
        dist.destroy_process_group()


def test_two_processes():
    out = mp.Manager().dict()
    mp.spawn(_worker, args=(29617, out), nprocs=2)
    # every rank gets rank 0's result; only rank 0 computed it
    assert out[0][0] == out[1][0] == dict(rank=0)
    assert out[0][1] == [0] and out[1][1] == []
    # rank 0 holds the dataset in order, without the padding
    assert out[0][2] == ['s0', 's1', 's2', 's3', 's4']
    assert out[1][2] is None
