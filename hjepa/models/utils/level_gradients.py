"""How each loss term of a step pulls on the model's parameters."""
from typing import Dict, Sequence

import torch
import torch.nn as nn

#: Parameter groups read by default: the context encoder and the predictor.
DEFAULT_GROUPS = ('backbone', 'predictor')


def level_gradients(model: nn.Module,
                    inputs: torch.Tensor,
                    groups: Sequence[str] = DEFAULT_GROUPS,
                    reference: str = 'loss_level0') -> Dict[str, dict]:
    """One training step's loss terms, each backpropagated on its own.

    ``model.loss(inputs)`` gives the step's terms (``loss_level{l}``, already
    weighted, and any ``loss_reg`` or ``loss_crops``); each is
    backpropagated alone, and its gradient over the parameters of every
    group (a submodule name of ``model``) is compared with the
    ``reference`` term's. A term whose gradient is large against the
    reference's and points elsewhere (cosine near 0 or below) takes
    optimizer steps away from the reference task, which a multi-task loss
    does when its extra terms do not help the first.

    The model's parameter gradients are overwritten (left zeroed).

    Args:
        model: An :class:`HJEPA`-like model with ``loss(inputs)``, in the
            mode to measure (``train()`` for a training step).
        inputs: A preprocessed batch [B, C, H, W].
        groups: Submodule names whose parameters are read.
        reference: The term the others are compared with.

    Returns:
        ``{term: {'loss': float, group: {'norm': float, 'ratio': float,
        'cosine': float}}}``: the gradient's L2 norm over the group,
        its ratio to the reference's norm and its cosine to the reference's
        gradient (0 where either is all zero).

    Raises:
        ValueError: if a group is not a submodule with parameters, or the
            step has no ``reference`` term.
    """
    params = {}
    for name in groups:
        module = getattr(model, name, None)
        if not isinstance(module, nn.Module) or not any(
                p.requires_grad for p in module.parameters()):
            raise ValueError(f'group {name!r} is not a submodule of '
                             f'{type(model).__name__} with trainable '
                             'parameters')
        params[name] = [p for p in module.parameters() if p.requires_grad]
    losses = model.loss(inputs)
    terms = sorted(
        k for k, v in losses.items()
        if 'loss' in k and isinstance(v, torch.Tensor) and v.requires_grad)
    if reference not in terms:
        raise ValueError(f'reference {reference!r} is not a loss term of '
                         f'the step; it has {terms}')
    grads = {}
    for i, term in enumerate(terms):
        model.zero_grad(set_to_none=True)
        losses[term].backward(retain_graph=i < len(terms) - 1)
        grads[term] = {
            name:
            torch.cat([(p.grad if p.grad is not None else
                        torch.zeros_like(p)).flatten().double() for p in ps])
            for name, ps in params.items()
        }
    model.zero_grad(set_to_none=True)
    out = {}
    for term in terms:
        row = {'loss': float(losses[term].detach())}
        for name in params:
            g, ref = grads[term][name], grads[reference][name]
            norm, ref_norm = g.norm().item(), ref.norm().item()
            cos = 0.0 if norm == 0 or ref_norm == 0 else \
                torch.dot(g, ref).item() / (norm * ref_norm)
            row[name] = dict(
                norm=norm,
                ratio=norm / ref_norm if ref_norm else float('nan'),
                cosine=cos)
        out[term] = row
    return out
