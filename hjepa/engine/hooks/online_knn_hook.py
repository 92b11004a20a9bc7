"""k-NN accuracy of the target encoder on a subset, while training runs."""
from typing import Optional, Sequence

from mmengine.dataset import default_collate
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from torch.utils.data import DataLoader

from hjepa.evaluation.features import extract_features
from hjepa.evaluation.knn import knn_accuracy
from hjepa.registry import HOOKS
from hjepa.utils.dist import on_rank0
from .eval_subset import build_eval_subset


@HOOKS.register_module()
class OnlineKNNHook(Hook):
    """Scores the encoder by k-NN every ``interval`` epochs on a subset.

    The bank and query sets are evenly spread subsets (``bank_size`` and
    ``query_size`` images) of the datasets of the config's
    ``test_cfg.bank_dataloader`` and ``test_dataloader`` unless given; they
    are read once, before training. Rank 0 scores, the other ranks wait;
    the result goes to the visualizer as ``online_knn/top1_k<k>`` and to the
    log, with the seconds it took.

    Args:
        interval: Epochs (or iterations, see ``by_epoch``) between checks.
        by_epoch: Count ``interval`` in epochs; False for iteration-based
            runs.
        bank_size: Bank (training split) images.
        query_size: Query (test split) images.
        ks: Neighbour counts.
        temperature: Vote temperature.
        encoder: ``'target'`` or ``'context'``.
        bank_dataset: Dataset config (default: from the test config).
        query_dataset: Dataset config (default: from the test config).
        batch_size: Images per forward pass.
    """

    priority = 'LOW'

    def __init__(self,
                 interval: int = 1,
                 by_epoch: bool = True,
                 bank_size: int = 4000,
                 query_size: int = 1000,
                 ks: Sequence[int] = (20, ),
                 temperature: float = 0.07,
                 encoder: str = 'target',
                 bank_dataset: Optional[dict] = None,
                 query_dataset: Optional[dict] = None,
                 batch_size: int = 500) -> None:
        if interval < 1:
            raise ValueError(f'interval {interval} must be >= 1')
        if encoder not in ('target', 'context'):
            raise ValueError(
                f"encoder {encoder!r} must be 'target' or 'context'")
        self.interval = interval
        self.by_epoch = by_epoch
        self.bank_size, self.query_size = bank_size, query_size
        self.ks, self.temperature, self.encoder = tuple(ks), temperature, \
            encoder
        self.bank_dataset, self.query_dataset = bank_dataset, query_dataset
        self.batch_size = batch_size
        self.history = []  # (iteration, metrics)

    def before_train(self, runner) -> None:
        if get_rank() != 0:
            return
        self._bank = self._loader(runner, self.bank_dataset, 'bank',
                                  self.bank_size)
        self._query = self._loader(runner, self.query_dataset, 'query',
                                   self.query_size)

    def _loader(self, runner, cfg, role: str, size: int) -> DataLoader:
        dataset = build_eval_subset(runner, role, size, cfg)
        if dataset is None:
            raise ValueError(
                f'OnlineKNNHook needs a {role}_dataset, or a config with '
                'test_cfg.bank_dataloader and test_dataloader')
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            shuffle=False,
            collate_fn=default_collate)

    def after_train_epoch(self, runner) -> None:
        if self.by_epoch and self.every_n_epochs(runner, self.interval):
            self._check(runner)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        if not self.by_epoch and self.every_n_train_iters(
                runner, self.interval):
            self._check(runner)

    def _check(self, runner) -> None:

        def score():  # rank 0 alone: its loaders are not distributed
            bank_x, bank_y = extract_features(runner.model, self._bank,
                                              self.encoder)
            query_x, query_y = extract_features(runner.model, self._query,
                                                self.encoder)
            return knn_accuracy(bank_x, bank_y, query_x, query_y, self.ks,
                                self.temperature)

        metrics = on_rank0(score, timed=True)
        # the step LoggerHook gives this point: after_train_epoch sees the
        # iteration counter already advanced, after_train_iter not yet
        step = runner.iter if self.by_epoch else runner.iter + 1
        self.history.append((step, metrics))
        runner.visualizer.add_scalars(
            {
                f'online_knn/{k}': v
                for k, v in metrics.items()
            }, step=step)
        runner.logger.info(
            f'online k-NN ({self.bank_size} bank / {self.query_size} query '
            f'images, {self.encoder} encoder): ' +
            ', '.join(f'{k}={v:.2f}' for k, v in metrics.items()))
