"""``runner.test()`` as k-NN evaluation of frozen features."""
import time
from typing import Dict, Sequence, Tuple, Union

import torch
from mmengine.dist import broadcast_object_list, collect_results, get_rank
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
    Under a distributed launcher each rank encodes its share of both
    splits, rank 0 gathers them in order and scores, and every rank returns
    the same metrics. The evaluator is not used: the metrics come from
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
        bank_x, bank_y = self._features(self.bank_dataloader)
        test_x, test_y = self._features(self.dataloader)
        metrics = [None]
        if get_rank() == 0:
            scores = knn_accuracy(bank_x, bank_y, test_x, test_y, self.ks,
                                  self.temperature)
            # the keys ProtocolTestLoop gives its 'model' subject
            metrics[0] = {f'model/knn/{k}': v for k, v in scores.items()}
        broadcast_object_list(metrics)
        metrics = metrics[0]
        metrics['eval_seconds'] = time.perf_counter() - start
        self.runner.logger.info('k-NN (' + self.encoder + ' encoder, T=' +
                                str(self.temperature) + '): ' +
                                ', '.join(f'{k}={v:.2f}'
                                          for k, v in metrics.items()))
        self.runner.call_hook('after_test_epoch', metrics=metrics)
        self.runner.call_hook('after_test')
        return metrics

    def _features(self, loader) -> Tuple[torch.Tensor, torch.Tensor]:
        """All features and labels of ``loader``'s dataset, on rank 0."""
        x, y = extract_features(
            self.runner.model, loader, self.encoder, progress=get_rank() == 0)
        rows = collect_results(list(zip(x, y)), len(loader.dataset), 'cpu')
        if rows is None:  # not rank 0
            return None, None
        return torch.stack([r[0]
                            for r in rows]), torch.stack([r[1] for r in rows])
