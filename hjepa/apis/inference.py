"""Build a model by zoo name or config, with its weights loaded."""
import os.path as osp
from typing import Optional, Union

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.logging import print_log

from hjepa.utils.checkpoint import (ENCODER_PREFIXES, CheckpointError,
                                    load_model_weights)
from .model_zoo import REGISTER_HINT, fetch_weights, get_entry


def _config(model: Union[str, Config]) -> tuple:
    """The config and, for a zoo name, its entry."""
    if isinstance(model, Config):
        return model, None
    if model.endswith('.py') or osp.isfile(model):
        if not osp.isfile(model):
            raise FileNotFoundError(f'config {model} does not exist')
        return Config.fromfile(model), None
    entry = get_entry(model)
    if not osp.isfile(entry.config):
        raise FileNotFoundError(
            f'config {entry.config} of model {entry.name!r} (listed in '
            f'{entry.index}) does not exist')
    return Config.fromfile(entry.config), entry


def load_weights(model: nn.Module, checkpoint: str) -> None:
    """Load a pretraining checkpoint, strict about both encoders.

    :func:`~hjepa.utils.checkpoint.load_model_weights` is strict about the
    target encoder; a context encoder it skipped is refused too, so either
    encoder can be read. Other keys (predictor, heads) that do not fit are
    reported.

    Raises:
        FileNotFoundError, CheckpointError: naming the file.
    """
    skipped = load_model_weights(model, checkpoint, 'target')
    has_target = hasattr(model, 'target_encoder')
    context = [k for k in skipped if k.startswith(ENCODER_PREFIXES['context'])]
    if has_target and context:
        raise CheckpointError(
            f'checkpoint {checkpoint} does not hold the context encoder of '
            f'the model: {len(context)} of its keys are missing or of '
            f'another shape ({", ".join(context[:3])})')
    if skipped:
        print_log(
            f'{len(skipped)} keys outside the encoders were not loaded '
            f'from {checkpoint}: {skipped[:5]}',
            logger='current')


def get_model(model: Union[str, Config],
              checkpoint: Optional[str] = None,
              pretrained: bool = False,
              device: Union[str, torch.device] = 'cpu') -> nn.Module:
    """An H-JEPA model in eval mode, by zoo name or config.

    Weights are read with ``weights_only=True`` (no pickled code runs) by
    the project's one checkpoint loader, strict about both encoders.

    Args:
        model: A zoo name (see :func:`list_models`), a config path, or a
            :class:`~mmengine.config.Config`.
        checkpoint: A checkpoint file to load.
        pretrained: Load the zoo entry's weights, fetched into
            ``$HJEPA_HOME/checkpoints`` and verified by sha256.
        device: Where the model goes.

    Returns:
        The model (e.g. ``HJEPA``; its ``target_encoder`` and ``backbone``
        are the two encoders).

    Raises:
        ValueError: if ``model`` is no zoo name, or ``pretrained`` is asked
            of a config or of an entry without published weights, or with
            a ``checkpoint`` too.
        FileNotFoundError, CheckpointError: if the checkpoint is missing,
            unreadable, fails its sha256, or does not fit the model.
    """
    from hjepa.registry import MODELS
    from hjepa.utils import register_all_modules
    register_all_modules()
    cfg, entry = _config(model)
    if pretrained:
        if checkpoint is not None:
            raise ValueError('give either pretrained=True or checkpoint, '
                             f'not both (checkpoint={checkpoint!r})')
        if entry is None:
            raise ValueError('pretrained=True needs a zoo name, not a config; '
                             'give the config with checkpoint=PATH, or ' +
                             REGISTER_HINT)
        checkpoint = fetch_weights(entry)
    net = MODELS.build(cfg.model)
    if checkpoint is None:
        net.init_weights()
    else:
        load_weights(net, checkpoint)
    return net.to(device).eval()
