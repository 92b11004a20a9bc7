"""``runner.test()`` as a suite of evaluation protocols on frozen features."""
import copy
import time
from typing import Dict, Optional, Sequence, Union

import torch
from mmengine.dist import broadcast_object_list, collect_results, get_rank
from mmengine.model import is_model_wrapper
from mmengine.runner import BaseLoop
from torch.utils.data import DataLoader

from hjepa.registry import LOOPS, MODELS, PROTOCOLS
from .features import batched_forward, cat_token_means
from .protocols import EvalData, EvalSubject

SUBJECTS = ('model', 'random_init', 'raw_pixels')


@LOOPS.register_module()
class ProtocolTestLoop(BaseLoop):
    """Runs evaluation protocols on the model and on its baselines.

    The bank (training split, un-augmented) and test splits are read once;
    every subject's features are computed once and cached; then every
    protocol named in ``run`` is applied to every subject in ``subjects``:

    - ``model``: the runner's model's target (or context) encoder, i.e.
      the loaded checkpoint;
    - ``random_init``: an encoder of the same config, freshly initialised;
    - ``raw_pixels``: the normalised pixels, flattened.

    Metrics are returned flat as ``<subject>/<protocol>/<metric>``, with
    ``<subject>/<protocol>/seconds``. Encoders run on the model's device.
    Under a distributed launcher every rank reads its share of the data and
    rank 0 runs the protocols while the others wait in a broadcast: raise
    ``env_cfg.dist_cfg.timeout`` (seconds) above the protocols' run time.
    Both splits are held in memory, so this loop is for CIFAR-sized sets;
    ImageNet configs keep the streaming :class:`KNNTestLoop`.

    Args:
        runner: The runner.
        dataloader: Test dataloader (or config).
        evaluator: Unused; accepted for mmengine's loop interface.
        bank_dataloader: Training-split dataloader config.
        protocols: ``{name: protocol config}``, all protocols available.
        run: Names in ``protocols`` to run, or ``'all'``.
        subjects: Subjects to evaluate, a subset of ``SUBJECTS``.
        encoder: ``'target'`` or ``'context'``.
        num_cat_layers: Layers averaged and concatenated for the ``cat4``
            pooling (fewer if the encoder is shallower).
        seed: Seed of the random-init baseline.
        report_dir: If set, a JSON and Markdown report and plots are
            written there (see :mod:`hjepa.evaluation.report`).
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator=None,
                 bank_dataloader: Union[DataLoader, Dict] = None,
                 protocols: Optional[Dict[str, dict]] = None,
                 run: Union[str, Sequence[str]] = ('knn', ),
                 subjects: Sequence[str] = ('model', ),
                 encoder: str = 'target',
                 num_cat_layers: int = 4,
                 seed: int = 0,
                 report_dir: Optional[str] = None) -> None:
        super().__init__(runner, dataloader)
        if bank_dataloader is None:
            raise ValueError('ProtocolTestLoop needs a bank_dataloader')
        if isinstance(bank_dataloader, dict):
            bank_dataloader = runner.build_dataloader(
                bank_dataloader, seed=runner.seed)
        self.bank_dataloader = bank_dataloader
        protocols = dict(protocols or {})
        run = list(protocols) if run == 'all' else list(run)
        unknown = [name for name in run if name not in protocols]
        if unknown:
            raise ValueError(f'protocols {unknown} are not configured; '
                             f'configured: {sorted(protocols)}')
        bad = [s for s in subjects if s not in SUBJECTS]
        if bad:
            raise ValueError(f'subjects {bad} must be among {SUBJECTS}')
        if encoder not in ('target', 'context'):
            raise ValueError(
                f"encoder {encoder!r} must be 'target' or 'context'")
        self.protocols = {
            name: PROTOCOLS.build(protocols[name])
            for name in run
        }
        self.subjects = tuple(subjects)
        self.encoder = encoder
        self.num_cat_layers = num_cat_layers
        self.seed = seed
        self.report_dir = report_dir

    @property
    def _device(self) -> torch.device:
        return next(self._model.parameters()).device

    @property
    def _model(self):
        model = self.runner.model
        return model.module if is_model_wrapper(model) else model

    def run(self) -> Dict[str, float]:
        self.runner.call_hook('before_test')
        self.runner.call_hook('before_test_epoch')
        start = time.perf_counter()
        data = self._load_data()
        metrics, subjects = [None], {}
        if get_rank() == 0:
            metrics[0] = {}
            for name in self.subjects:
                subject = self._subject(name, data)
                subjects[name] = subject
                metrics[0].update(self._evaluate(subject, data))
        broadcast_object_list(metrics)
        metrics = metrics[0]
        metrics['eval_seconds'] = time.perf_counter() - start
        if self.report_dir is not None and get_rank() == 0:
            from .report import write_report
            write_report(self.report_dir, self.runner, metrics, subjects, data)
        self.runner.call_hook('after_test_epoch', metrics=metrics)
        self.runner.call_hook('after_test')
        return metrics

    def _evaluate(self, subject: EvalSubject,
                  data: EvalData) -> Dict[str, float]:
        out = {}
        logger = self.runner.logger
        for name, protocol in self.protocols.items():
            t0 = time.perf_counter()
            metrics = protocol(subject, data, logger=logger)
            if not metrics:
                continue
            metrics['seconds'] = time.perf_counter() - t0
            logger.info(f'{subject.name} / {name}: ' +
                        ', '.join(f'{k}={v:.4g}' for k, v in metrics.items()))
            out.update({
                f'{subject.name}/{name}/{k}': float(v)
                for k, v in metrics.items()
            })
        return out

    # data and subjects -------------------------------------------------

    def _load_data(self) -> Optional[EvalData]:
        """Normalised images and labels of both splits, on rank 0."""
        bank = self._images(self.bank_dataloader)
        test = self._images(self.dataloader)
        if bank is None:
            return None
        return EvalData(bank[0], bank[1], test[0], test[1])

    @torch.no_grad()
    def _images(self, loader):
        preprocess = self._model.data_preprocessor
        rows = []
        for batch in loader:
            data = preprocess(batch, False)
            labels = data['data_samples']
            if not isinstance(labels, torch.Tensor) or labels.min() < 0:
                raise ValueError(
                    'evaluation protocols need class labels; build the '
                    'evaluation datasets with with_label=True')
            rows.extend(zip(data['inputs'].cpu(), labels.cpu()))
        rows = collect_results(rows, len(loader.dataset), 'cpu')
        if rows is None:  # not rank 0
            return None
        return torch.stack([r[0]
                            for r in rows]), torch.stack([r[1] for r in rows])

    def _subject(self, name: str, data: EvalData) -> EvalSubject:
        t0 = time.perf_counter()
        if name == 'raw_pixels':
            feats = dict(
                avg=(data.train_images.flatten(1),
                     data.test_images.flatten(1)))
            return EvalSubject(name, feats)
        cfg = copy.deepcopy(self.runner.cfg.model.backbone)
        k = min(self.num_cat_layers, self._model.backbone.num_layers)
        cfg.update(
            out_type='tokens', out_indices=list(range(-k, 0)), init_cfg=None)
        encoder = MODELS.build(cfg)
        if name == 'model':
            model = self._model
            source = model.target_encoder if self.encoder == 'target' \
                else model.backbone
            encoder.load_state_dict(source.state_dict())
        else:
            with torch.random.fork_rng(devices=[]):  # leave others' draws
                torch.manual_seed(self.seed)
                encoder.init_weights()
        encoder.to(self._device).eval()
        train = self._features(encoder, data.train_images)
        test = self._features(encoder, data.test_images)
        feats = {p: (train[p], test[p]) for p in train}
        self.runner.logger.info(
            f'{name}: features of {len(data.train_images)} + '
            f'{len(data.test_images)} images in '
            f'{time.perf_counter() - t0:.0f} s')
        return EvalSubject(name, feats, encoder, cfg)

    @staticmethod
    def _features(encoder, images: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``cat4``: the output layers' token averages side by side
        [N, k * D]; ``avg``: the last one's [N, D]."""
        cat = batched_forward(encoder, images,
                              lambda x: cat_token_means(encoder(x)))
        return dict(avg=cat[:, -encoder.embed_dims:], cat4=cat)
