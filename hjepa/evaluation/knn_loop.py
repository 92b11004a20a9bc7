"""``runner.test()`` as k-NN evaluation of frozen features."""
from typing import Dict, Sequence, Union

from torch.utils.data import DataLoader

from hjepa.registry import LOOPS
from .protocol_loop import ProtocolTestLoop


@LOOPS.register_module()
class KNNTestLoop(ProtocolTestLoop):
    """Scores the test split by k-NN against features of a bank split.

    :class:`ProtocolTestLoop` with the k-NN protocol alone, on the loaded
    model: the same streamed features (every rank encodes its share, rank
    0 gathers them in order and scores, every rank returns the same
    metrics), the same ``model/knn/top1_k<k>`` keys. The evaluator is not
    used.

    Args:
        runner: The runner.
        dataloader: Test (query) dataloader or its config.
        evaluator: Unused; accepted for mmengine's loop interface.
        bank_dataloader: Dataloader config of the neighbour bank.
        ks: Values of k.
        temperature: Vote temperature.
        encoder: ``'target'`` or ``'context'``.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator=None,
                 bank_dataloader: Union[DataLoader, Dict] = None,
                 ks: Sequence[int] = (10, 20, 200),
                 temperature: float = 0.07,
                 encoder: str = 'target') -> None:
        if bank_dataloader is None:
            raise ValueError('KNNTestLoop needs a bank_dataloader config')
        super().__init__(
            runner,
            dataloader,
            evaluator,
            bank_dataloader,
            protocols=dict(
                knn=dict(
                    type='KNNProtocol', ks=tuple(ks),
                    temperature=temperature)),
            run=('knn', ),
            subjects=('model', ),
            encoder=encoder)
        self.ks = tuple(ks)
        self.temperature = temperature
