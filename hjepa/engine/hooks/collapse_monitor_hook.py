"""Watches feature statistics during pretraining and acts on collapse."""
from typing import Dict, Optional, Sequence

import torch
from mmengine.dataset import default_collate
from mmengine.dist import get_rank
from mmengine.hooks import Hook

from hjepa.evaluation.feature_quality import (feature_statistics,
                                              level_statistics)
from hjepa.evaluation.features import batched_forward
from hjepa.registry import HOOKS
from hjepa.utils.dist import on_rank0, unwrap_model
from .eval_subset import build_eval_subset

ACTIONS = ('warn', 'checkpoint', 'lower_lr', 'stop')


class RepresentationCollapseError(RuntimeError):
    """Raised by :class:`CollapseMonitorHook` when told to stop a run."""


@HOOKS.register_module()
class CollapseMonitorHook(Hook):
    """Logs feature statistics of both encoders and acts when they collapse.

    Every ``interval`` iterations the hook encodes a fixed probe batch (an
    even spread of ``probe_size`` training images, un-augmented) with the
    target and the context encoder and computes, for the average-pooled
    image features and for the last layer's tokens pooled at every
    hierarchy level (``2**l x 2**l`` windows): the effective rank (RankMe),
    the std of L2-normalised features times ``sqrt(D)`` (1 when spread
    evenly over the sphere, 0 at collapse) and the mean pairwise cosine.
    They go to the visualizer (``collapse/<encoder>_<level>_<stat>``:
    scalars.json, TensorBoard) and the log.

    A check fails when the target encoder's image-level statistics cross a
    threshold: ``rank < min_rank``, ``std < min_std`` or
    ``mean_cos > max_mean_cos``. After ``patience`` failing checks in a row
    the hook does each of ``actions``, once per collapse: it acts again only
    after a healthy check in between.


    - ``'warn'``: log a warning naming the statistic, value and threshold;
    - ``'checkpoint'``: save ``collapse_iter_<n>.pth`` in the work dir;
    - ``'lower_lr'``: multiply every learning rate (and the schedulers'
      base values and floors, so the rest of the schedule follows) by
      ``lr_factor``;
    - ``'stop'``: raise :class:`RepresentationCollapseError`.

    Args:
        interval: Iterations between checks.
        probe_size: Images in the probe batch.
        num_levels: Levels of per-level statistics (default: the model's
            ``num_levels``).
        min_rank: Lowest healthy effective rank of the pooled features.
        min_std: Lowest healthy normalised std (times ``sqrt(D)``).
        max_mean_cos: Highest healthy mean pairwise cosine.
        patience: Failing checks in a row before acting.
        actions: Subset of ``ACTIONS``.
        lr_factor: Learning-rate factor of ``'lower_lr'``.
        start_iter: Checks before this iteration are logged, never acted
            on (a fresh random encoder is itself low-rank).
    """

    priority = 'LOW'

    def __init__(self,
                 interval: int = 200,
                 probe_size: int = 256,
                 num_levels: Optional[int] = None,
                 min_rank: float = 2.0,
                 min_std: float = 0.1,
                 max_mean_cos: float = 0.9,
                 patience: int = 2,
                 actions: Sequence[str] = ('warn', ),
                 lr_factor: float = 0.5,
                 start_iter: int = 0) -> None:
        bad = [a for a in actions if a not in ACTIONS]
        if bad:
            raise ValueError(f'collapse actions {bad} must be among {ACTIONS}')
        if interval < 1 or probe_size < 2 or patience < 1:
            raise ValueError(
                f'interval {interval}, probe_size {probe_size} and patience '
                f'{patience} must be >= 1, >= 2 and >= 1')
        if not 0 < lr_factor < 1:
            raise ValueError(f'lr_factor {lr_factor} must be in (0, 1)')
        self.interval = interval
        self.probe_size = probe_size
        self.num_levels = num_levels
        self.min_rank = min_rank
        self.min_std = min_std
        self.max_mean_cos = max_mean_cos
        self.patience = patience
        self.actions = tuple(actions)
        self.lr_factor = lr_factor
        self.start_iter = start_iter
        self.failures = 0  # failing checks in a row
        self.fired_at = []  # iterations at which the actions ran
        self._probe = None

    def before_train(self, runner) -> None:
        if get_rank() != 0:
            return
        # the un-augmented bank set of the test config if there is one (the
        # training pipeline may crop and flip), else the training set
        dataset = build_eval_subset(runner, 'bank', self.probe_size) or \
            runner.train_dataloader.dataset
        n = min(self.probe_size, len(dataset))
        pick = torch.linspace(0, len(dataset) - 1, n).long().tolist()
        batch = default_collate([dataset[i] for i in pick])
        model = self._model(runner)
        self._probe = model.data_preprocessor(batch, False)['inputs']

    @staticmethod
    def _model(runner):
        return unwrap_model(runner.model)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        if not self.every_n_train_iters(runner, self.interval):
            return
        # rank 0 measures and decides, so every rank acts alike (the same
        # SVD on two GPUs need not agree to the last bit)
        stats = on_rank0(lambda: self.statistics(runner), timed=True)
        step = runner.iter + 1
        runner.visualizer.add_scalars(
            {
                f'collapse/{k}': v
                for k, v in stats.items()
            }, step=step)
        runner.logger.info('collapse monitor: ' + ', '.join(
            f'{k}={v:.3g}'
            for k, v in stats.items() if 'image' in k or k == 'seconds'))
        failed = self._failed(stats)
        if not failed or step < self.start_iter:
            self.failures = 0
            return
        self.failures += 1
        if self.failures == self.patience:  # once per run of failures
            self._act(runner, step, failed)

    @torch.no_grad()
    def statistics(self, runner) -> Dict[str, float]:
        """``<encoder>_<image|levelL>_<rank|std|mean_cos>`` of the probe."""
        model = self._model(runner)
        levels = self.num_levels or getattr(model, 'num_levels', 1)
        out = {}
        for name, encoder in (('target', model.target_encoder),
                              ('context', model.backbone)):
            tokens = batched_forward(encoder, self._probe,
                                     lambda x: encoder(x)[-1])  # [B, N, D]
            p = encoder.patch_size
            grid = (self._probe.shape[-2] // p, self._probe.shape[-1] // p)
            parts = dict(
                image=feature_statistics(tokens.mean(1)),
                **level_statistics(tokens, grid, levels))
            for part, s in parts.items():
                out.update({f'{name}_{part}_{k}': v for k, v in s.items()})
        return out

    def _failed(self, stats: Dict[str, float]) -> Dict[str, str]:
        """``{statistic: why}`` of the image-level checks that fail."""
        rank, std, cos = (
            stats[f'target_image_{k}'] for k in ('rank', 'std', 'mean_cos'))
        failed = {}
        if rank < self.min_rank:
            failed['rank'] = f'{rank:.4g} < threshold {self.min_rank:g}'
        if std < self.min_std:
            failed['std'] = f'{std:.4g} < threshold {self.min_std:g}'
        if cos > self.max_mean_cos:
            failed['mean_cos'] = \
                f'{cos:.4g} > threshold {self.max_mean_cos:g}'
        return failed

    def _act(self, runner, step: int, failed: Dict[str, str]) -> None:
        self.fired_at.append(step)
        why = '; '.join(f'{k} {v}' for k, v in failed.items())
        msg = (f'representation collapse suspected at iteration {step}: '
               f'target encoder features on the probe batch have {why} '
               f'for {self.patience} checks in a row')
        if 'warn' in self.actions:
            runner.logger.warning(msg)
        if 'checkpoint' in self.actions:
            self._save(runner, f'collapse_iter_{step}.pth')
            msg += f'; saved {runner.work_dir}/collapse_iter_{step}.pth'
        if 'lower_lr' in self.actions:
            self._lower_lr(runner)
            runner.logger.warning(
                f'collapse monitor: learning rates multiplied by '
                f'{self.lr_factor}')
        if 'stop' in self.actions:
            raise RepresentationCollapseError(
                msg + '. Lower the learning rate, raise the EMA momentum, '
                'or check the masks and the target normalisation.')

    @staticmethod
    def _save(runner, filename: str) -> None:
        # mid-epoch: by_epoch=False records the iteration, as CheckpointHook
        # does for iteration checkpoints, so resuming continues from it
        runner.save_checkpoint(
            runner.work_dir,
            filename,
            save_optimizer=True,
            save_param_scheduler=True,
            by_epoch=False)

    def _lower_lr(self, runner) -> None:
        wrapper = runner.optim_wrapper
        for group in wrapper.param_groups:
            group['lr'] *= self.lr_factor
            if 'initial_lr' in group:
                group['initial_lr'] *= self.lr_factor
        schedulers = runner.param_schedulers or []
        if isinstance(schedulers, dict):
            schedulers = [s for v in schedulers.values() for s in v]
        for s in schedulers:
            if getattr(s, 'param_name', None) == 'lr':
                s.base_values = [v * self.lr_factor for v in s.base_values]
                if getattr(s, 'eta_min', None):  # cosine / poly floors too
                    s.eta_min *= self.lr_factor
