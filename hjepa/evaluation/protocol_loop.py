"""``runner.test()`` as a suite of evaluation protocols on frozen features."""
import copy
import time
from typing import Dict, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.dist import get_rank
from mmengine.runner import BaseLoop
from torch.utils.data import DataLoader

from hjepa.registry import LOOPS, MODELS, PROTOCOLS
from hjepa.utils.dist import on_rank0, unwrap_model
from .features import gather_features, gather_pairs
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
    Under a distributed launcher every rank encodes its share of the data
    and rank 0 runs the protocols while the others wait in a broadcast:
    raise ``env_cfg.dist_cfg.timeout`` (seconds) above the protocols' run
    time. Features stream (:func:`gather_features`: only features are
    kept), so k-NN, linear probe and few-shot run on ImageNet-sized sets;
    the splits' images are held in memory only where asked for (raw pixels,
    fine-tuning, feature quality, the report; see :attr:`needs_images`).

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
    def _model(self):
        return unwrap_model(self.runner.model)

    @property
    def needs_images(self) -> bool:
        """Whether the splits' images are held in memory: for raw pixels,
        for protocols that re-encode or fine-tune (``needs_images``) and
        for the report's mask plot. Otherwise only features are kept."""
        return 'raw_pixels' in self.subjects or \
            self.report_dir is not None or \
            any(getattr(p, 'needs_images', False)
                for p in self.protocols.values())

    def run(self) -> Dict[str, float]:
        self.runner.call_hook('before_test')
        self.runner.call_hook('before_test_epoch')
        start = time.perf_counter()
        # every rank reads its share of the data; rank 0 holds the whole
        images = self._load_images() if self.needs_images else None
        encoders = {
            name: self._encoder(name)
            for name in self.subjects if name != 'raw_pixels'
        }
        features = {
            name: self._features(name, encoder)
            for name, encoder in encoders.items()
        }
        subjects = {}
        data = self._eval_data(images, features) if get_rank() == 0 \
            else None

        def evaluate():
            out = {}
            for name in self.subjects:
                subjects[name] = self._subject(name, data, encoders, features)
                out.update(self._evaluate(subjects[name], data))
            return out

        metrics = on_rank0(evaluate)
        metrics['eval_seconds'] = time.perf_counter() - start
        if self.report_dir is not None and get_rank() == 0:
            from .report import write_report
            write_report(
                self.report_dir,
                metrics,
                subjects,
                data,
                config=self.runner.cfg.filename,
                checkpoint=self.runner.cfg.get('load_from'),
                encoder=self.encoder,
                classes=dataset_classes(self.dataloader.dataset),
                model=self._model,
                logger=self.runner.logger)
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

    def _load_images(self):
        """Normalised images and labels of both splits (rank 0; None on the
        others)."""
        bank = self._images(self.bank_dataloader)
        test = self._images(self.dataloader)
        return None if bank is None else (bank, test)

    @torch.no_grad()
    def _images(self, loader):
        preprocess = self._model.data_preprocessor
        xs, ys = [], []
        for batch in loader:
            data = preprocess(batch, False)
            check_labels(data['data_samples'])
            xs.append(data['inputs'].cpu())
            ys.append(data['data_samples'].cpu())
        x, y = gather_pairs(torch.cat(xs), torch.cat(ys), len(loader.dataset))
        return None if x is None else (x, y)

    def _encoder(self, name: str) -> nn.Module:
        """The loaded model's target (or context) encoder, or one of the
        same config freshly initialised (the same on every rank)."""
        if name == 'model':
            model = self._model
            return model.target_encoder if self.encoder == 'target' \
                else model.backbone
        encoder = MODELS.build(self._encoder_cfg())
        with torch.random.fork_rng(devices=[]):  # leave others' draws
            torch.manual_seed(self.seed)
            encoder.init_weights()
        return encoder.to(self._device).eval()

    def _encoder_cfg(self) -> dict:
        cfg = copy.deepcopy(self.runner.cfg.model.backbone)
        cfg.update(init_cfg=None)
        return cfg

    @property
    def _device(self) -> torch.device:
        return next(self._model.parameters()).device

    def _features(self, name: str, encoder: nn.Module):
        """``cat4`` features (the last ``num_cat_layers`` layers' token
        averages side by side) and labels of both splits, streamed through
        :func:`gather_features`; rank 0 holds them, the others None."""
        t0 = time.perf_counter()
        k = min(self.num_cat_layers, encoder.num_layers)
        out = []
        for loader in (self.bank_dataloader, self.dataloader):
            x, y = gather_features(
                self._model,
                loader,
                encoder,
                pooling='cat4',
                out_layers=list(range(-k, 0)),
                progress=get_rank() == 0)
            if y is not None:
                check_labels(y)
            out.append((x, y))
        if get_rank() == 0:
            self.runner.logger.info(
                f'{name}: features of {len(out[0][0])} + {len(out[1][0])} '
                f'images in {time.perf_counter() - t0:.0f} s')
        return out

    @staticmethod
    def _eval_data(images, features) -> EvalData:
        if images is not None:
            (bank_x, bank_y), (test_x, test_y) = images
            return EvalData(bank_y, test_y, bank_x, test_x)
        (_, bank_y), (_, test_y) = next(iter(features.values()))
        return EvalData(bank_y, test_y)

    def _subject(self, name: str, data: EvalData, encoders: dict,
                 features: dict) -> EvalSubject:
        if name == 'raw_pixels':
            feats = dict(
                avg=(data.train_images.flatten(1),
                     data.test_images.flatten(1)))
            return EvalSubject(name, feats)
        (train, _), (test, _) = features[name]
        encoder = encoders[name]
        d = encoder.embed_dims
        feats = dict(avg=(train[:, -d:], test[:, -d:]), cat4=(train, test))
        return EvalSubject(name, feats, encoder, self._encoder_cfg())


def check_labels(labels) -> None:
    if not isinstance(labels, torch.Tensor) or labels.min() < 0:
        raise ValueError('evaluation protocols need class labels; build the '
                         'evaluation datasets with with_label=True')


def dataset_classes(dataset) -> Optional[Sequence[str]]:
    """A dataset's class names, if it has them."""
    classes = getattr(dataset, 'classes', None)
    if classes:
        return classes
    metainfo = getattr(dataset, 'metainfo', None) or {}
    return metainfo.get('classes')
