"""What --amp does to a config: no bf16 on a CPU without bf16 kernels."""
import logging

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from torch import nn

import hjepa.utils.amp as amp
from hjepa.engine.optimizers.autocast_optim_wrapper import AutocastOptimWrapper


def _cfg(**wrapper):
    return Config(
        dict(
            optim_wrapper=dict(
                optimizer=dict(type='AdamW', lr=1e-3), **wrapper)))


@pytest.fixture
def cpu_only(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)


@pytest.fixture
def log_records():
    logger = MMLogger.get_current_instance()
    records = []

    class Keep(logging.Handler):

        def emit(self, record):
            records.append(record)

    handler = Keep(level=logging.WARNING)
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def test_cpu_with_bf16_kernels_gets_autocast(cpu_only, monkeypatch):
    monkeypatch.setattr(amp, 'cpu_bf16_matmul_supported', lambda: True)
    cfg = _cfg()
    assert amp.apply_amp(cfg) == 'bfloat16'
    assert cfg.optim_wrapper.type == 'AutocastOptimWrapper'
    assert cfg.optim_wrapper.dtype == 'bfloat16'


def test_cpu_without_bf16_kernels_stays_fp32_and_says_why(
        cpu_only, monkeypatch, log_records):
    """On an AVX2-only CPU bf16 matmuls ran 400x slower than fp32: --amp
    must not turn an hour's job into days, and must not do so silently."""
    monkeypatch.setattr(amp, 'cpu_bf16_matmul_supported', lambda: False)
    cfg = _cfg(type='OptimWrapper')
    assert amp.apply_amp(cfg) is None
    assert cfg.optim_wrapper.type == 'OptimWrapper'
    assert 'dtype' not in cfg.optim_wrapper
    assert any('no bf16 matmul kernels' in r.getMessage()
               and 'fp32' in r.getMessage() for r in log_records)


def test_a_config_that_asks_for_autocast_keeps_it(cpu_only, monkeypatch):
    monkeypatch.setattr(amp, 'cpu_bf16_matmul_supported', lambda: False)
    cfg = _cfg(type='AutocastOptimWrapper')
    assert amp.apply_amp(cfg) == 'bfloat16'
    assert cfg.optim_wrapper.type == 'AutocastOptimWrapper'


def test_the_check_agrees_with_torch():
    assert amp.cpu_bf16_matmul_supported() == bool(
        torch.ops.mkldnn._is_mkldnn_bf16_supported())


def test_autocast_wrapper_warns_once_on_a_cpu_without_kernels(
        monkeypatch, log_records):
    monkeypatch.setattr(amp, 'cpu_bf16_matmul_supported', lambda: False)
    model = nn.Linear(4, 2)
    wrapper = AutocastOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    for _ in range(3):
        with wrapper.optim_context(model):
            assert model(torch.randn(2, 4)).dtype == torch.bfloat16
    warned = [r for r in log_records if 'bf16 matmul' in r.getMessage()]
    assert len(warned) == 1
