import pytest
import torch
from mmengine.config import Config

from hjepa.registry import MODELS
from hjepa.utils.checkpoint import CHECKPOINT_FORMAT
from tests.helpers import SMOKE


@pytest.fixture(scope='session')
def smoke_checkpoint(tmp_path_factory):
    """A smoke-config pretraining checkpoint (mmengine's layout) whose
    target encoder differs from its context encoder."""
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(SMOKE).model)
    model.init_weights()
    with torch.no_grad():
        for p in model.target_encoder.parameters():
            p.add_(0.05 * torch.randn_like(p))
    path = tmp_path_factory.mktemp('ckpt') / 'epoch_2.pth'
    torch.save(
        dict(
            meta=dict(hjepa_format=CHECKPOINT_FORMAT, epoch=2),
            state_dict=model.state_dict()), path)
    return str(path)


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty ``$HJEPA_HOME``: the user-local index and the cache."""
    path = tmp_path / 'hjepa_home'
    monkeypatch.setenv('HJEPA_HOME', str(path))
    return path
