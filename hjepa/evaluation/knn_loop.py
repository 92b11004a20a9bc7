"""``runner.test()`` as k-NN evaluation of frozen features."""
import time
from typing import Dict, Sequence, Union

from mmengine.runner import BaseLoop
from torch.utils.data import DataLoader

from hjepa.registry import LOOPS
from .features import extract_features
from .knn import knn_accuracy


@LOOPS.register_module()
class KNNTestLoop(BaseLoop):
    """Scores the test split by k-NN against features of a bank split.

    Uses the runner's test dataloader for queries and builds
    ``bank_dataloader`` (the un-augmented training split) for neighbours.
    The evaluator is not used: the metrics come from
    :func:`knn_accuracy` and are logged and returned like any test metric.

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
        super().__init__(runner, dataloader)
        if bank_dataloader is None:
            raise ValueError('KNNTestLoop needs a bank_dataloader config')
        if isinstance(bank_dataloader, dict):
            bank_dataloader = runner.build_dataloader(
                bank_dataloader, seed=runner.seed)
        self.bank_dataloader = bank_dataloader
        self.ks = tuple(ks)
        self.temperature = temperature
        self.encoder = encoder

    def run(self) -> Dict[str, float]:
        self.runner.call_hook('before_test')
        self.runner.call_hook('before_test_epoch')
        start = time.perf_counter()
        model = self.runner.model
        bank_x, bank_y = extract_features(model, self.bank_dataloader,
                                          self.encoder, progress=True)
        test_x, test_y = extract_features(model, self.dataloader,
                                          self.encoder, progress=True)
        metrics = knn_accuracy(bank_x, bank_y, test_x, test_y, self.ks,
                               self.temperature)
        metrics['eval_seconds'] = time.perf_counter() - start
        self.runner.logger.info(
            'k-NN (' + self.encoder + ' encoder, T=' + str(self.temperature) +
            '): ' + ', '.join(f'{k}={v:.2f}' for k, v in metrics.items()))
        self.runner.call_hook('after_test_epoch', metrics=metrics)
        self.runner.call_hook('after_test')
        return metrics
