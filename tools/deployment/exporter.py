"""Export one encoder of an H-JEPA model, and run what was exported.

The exported module takes **float RGB images on the 0-255 scale**
[N, 3, H, W] (what the data loaders give, as float): the data
preprocessor's ``(x - mean) / std`` is inside the exported graph, so a
deployment needs no preprocessing beyond resizing. It gives the encoder's
last-block tokens pooled as the deploy config asks: ``avg`` [N, D] (what
the k-NN and linear-probe protocols read, ``model.extract_feat``) or
``tokens`` [N, L, D].

Formats:

- ``torchscript``: ``torch.jit.trace`` then ``torch.jit.freeze``; any
  batch size.
- ``onnx``: ``torch.onnx.export`` (the TorchScript-based exporter,
  ``dynamo=False``), checked with ``onnx.checker.check_model``; the batch
  axis is dynamic unless the deploy config says otherwise.
- ``onnx-int8``: the ``onnx`` export with its MatMul/Gemm weights
  quantised to int8 by ONNX Runtime's ``quantize_dynamic`` (activations
  are quantised per batch at run time). Dynamic quantisation was chosen
  because it measured better than static on both counts: on the 6-block
  ViT-Tiny of ``make train`` (untrained weights), 512 CIFAR-10 test
  images, batch 64, one thread, dynamic gave cosine 0.99999 to fp32 and
  1.9x the ONNX Runtime fp32 throughput; static (QDQ, per-channel,
  calibrated on 256 CIFAR-10 training images) cosine 0.9991 and 1.6x;
  ``quant_pre_process`` first, or per-channel weights, made dynamic no
  better (0.99999, 1.7-1.8x).

Every export carries its settings (format, encoder, pooling, input size,
normalisation, config and checkpoint) as JSON: in the ONNX model's
``metadata_props`` and in the TorchScript archive's extra file
``hjepa_deploy.json``; :class:`ExportedModel` reads them back.
"""
import contextlib
import copy
import json
import logging
import os
import os.path as osp
import warnings
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config

FORMATS = ('torchscript', 'onnx', 'onnx-int8')
POOLINGS = ('avg', 'tokens')
ENCODERS = ('target', 'context')
META_KEY = 'hjepa_deploy'
TS_META_FILE = 'hjepa_deploy.json'
INPUT_NAME, OUTPUT_NAME = 'images', 'feats'
#: Deploy settings when a deploy config leaves them out; ``input_size``
#: None is the encoder's ``img_size``.
DEFAULTS = dict(
    opset_version=17,
    dynamic_batch=True,
    batch_size=1,
    input_size=None,
    encoder='target',
    pooling='avg',
    weight_type='QInt8',
    per_channel=False)
#: The deploy config of each format when none is given.
DEFAULT_DEPLOY_CFGS = dict(
    torchscript='configs/deploy/encoder_torchscript_32x32.py',
    onnx='configs/deploy/encoder_onnx_dynamic-batch_32x32.py',
    **{'onnx-int8': 'configs/deploy/encoder_onnx-int8_32x32.py'})
SUFFIXES = dict(torchscript='.pt', onnx='.onnx', **{'onnx-int8': '.onnx'})


class ExportableEncoder(nn.Module):
    """Normalisation, one encoder and pooling, as one traceable module.

    Args:
        encoder: An :class:`~hjepa.models.HJEPAViT` (copied, not shared).
        mean: Per-channel mean on the 0-255 scale.
        std: Per-channel standard deviation on the 0-255 scale.
        pooling: ``'avg'`` ([N, D]) or ``'tokens'`` ([N, L, D]).
    """

    def __init__(self, encoder: nn.Module, mean: torch.Tensor,
                 std: torch.Tensor, pooling: str) -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f'pooling {pooling!r} must be one of {POOLINGS}')
        if getattr(encoder, 'out_type', 'tokens') != 'tokens':
            raise ValueError(f'encoder out_type {encoder.out_type!r}: only '
                             "'tokens' encoders can be exported")
        self.encoder = copy.deepcopy(encoder).float().eval()
        self.encoder.requires_grad_(False)
        # the last configured block, as model.extract_feat reads it
        self.last = max(self.encoder.out_indices)
        self.pooling = pooling
        self.register_buffer('mean', mean.detach().float().view(1, -1, 1, 1))
        self.register_buffer('std', std.detach().float().view(1, -1, 1, 1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Features of 0-255 float RGB images [N, 3, H, W]."""
        x = (images - self.mean) / self.std
        tokens = self.encoder(x, out_indices=[self.last])[0]  # [N, L, D]
        return tokens.mean(1) if self.pooling == 'avg' else tokens


def deploy_settings(deploy_cfg: Optional[str] = None,
                    fmt: Optional[str] = None,
                    **overrides) -> dict:
    """The flat export settings of a deploy config, with overrides.

    Args:
        deploy_cfg: A file of ``configs/deploy/``; None takes the default
            one of ``fmt``.
        fmt: The format asked for; must agree with the config's.
        overrides: Settings that replace the config's (None leaves it).

    Returns:
        ``format``, ``opset_version``, ``dynamic_batch``, ``batch_size``,
        ``input_size``, ``encoder``, ``pooling``, ``weight_type``,
        ``per_channel``.
    """
    if deploy_cfg is None:
        if fmt not in FORMATS:
            raise ValueError(f'format {fmt!r} must be one of {FORMATS}')
        repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
        deploy_cfg = osp.join(repo, DEFAULT_DEPLOY_CFGS[fmt])
    if not osp.isfile(deploy_cfg):
        raise FileNotFoundError(f'deploy config {deploy_cfg} does not exist')
    cfg = Config.fromfile(deploy_cfg)
    settings = dict(DEFAULTS)
    for part in ('export_config', 'codebase_config', 'quantize_config'):
        settings.update(cfg.get(part, {}))
    cfg_fmt = settings.get('format')
    if fmt is not None and cfg_fmt is not None and cfg_fmt != fmt:
        raise ValueError(f'deploy config {deploy_cfg} is for format '
                         f'{cfg_fmt!r}, not the {fmt!r} asked for')
    settings['format'] = fmt or cfg_fmt
    settings.update({k: v for k, v in overrides.items() if v is not None})
    unknown = set(settings) - set(DEFAULTS) - {'format'}
    if unknown:
        raise ValueError(f'unknown deploy settings {sorted(unknown)} in '
                         f'{deploy_cfg}; expected {sorted(DEFAULTS)}')
    checks = dict(
        format=FORMATS,
        encoder=ENCODERS,
        pooling=POOLINGS,
        weight_type=('QInt8', 'QUInt8'))
    for key, allowed in checks.items():
        if settings[key] not in allowed:
            raise ValueError(f'{key} {settings[key]!r} (deploy config '
                             f'{deploy_cfg}) must be one of {allowed}')
    if settings['batch_size'] < 1:
        raise ValueError(f"batch_size {settings['batch_size']} must be >= 1")
    settings['deploy_cfg'] = deploy_cfg
    return settings


def build_exportable(model: nn.Module, encoder: str,
                     pooling: str) -> ExportableEncoder:
    """:class:`ExportableEncoder` of an HJEPA model's ``encoder``."""
    if encoder not in ENCODERS:
        raise ValueError(f'encoder {encoder!r} must be one of {ENCODERS}')
    net = model.target_encoder if encoder == 'target' else model.backbone
    pre = model.data_preprocessor
    return ExportableEncoder(net, pre.mean, pre.std, pooling)


def _example(module: ExportableEncoder, settings: dict) -> torch.Tensor:
    size = settings['input_size'] or module.encoder.img_size
    if len(size) != 2 or any(s % module.encoder.patch_size for s in size):
        raise ValueError(f'input_size {tuple(size)} must be (H, W), both '
                         'divisible by the patch size '
                         f'{module.encoder.patch_size}')
    # two images, so that no size-1 batch dimension is baked into a trace
    batch = 2 if settings['dynamic_batch'] else settings['batch_size']
    gen = torch.Generator().manual_seed(0)
    return torch.rand((batch, 3) + tuple(size), generator=gen) * 255


def _metadata(module: ExportableEncoder, settings: dict, example: torch.Tensor,
              **extra) -> dict:
    return dict(
        format=settings['format'],
        encoder=settings['encoder'],
        pooling=settings['pooling'],
        input_size=list(example.shape[-2:]),
        dynamic_batch=bool(settings['dynamic_batch']),
        batch_size=None
        if settings['dynamic_batch'] else settings['batch_size'],
        input='float32 RGB [N, 3, H, W] on the 0-255 scale; normalised '
        'inside as (x - mean) / std',
        mean=module.mean.flatten().tolist(),
        std=module.std.flatten().tolist(),
        **extra)


@contextlib.contextmanager
def _fixed_size_trace():
    """Tracing with the image size fixed, as every export has it: the
    encoder's position-embedding lookup compares the patch grid with its
    own, which a trace records as a constant (right for a fixed input
    size), and warns about; that warning is silenced, no other."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            'ignore',
            message='Converting a tensor to a Python boolean',
            category=torch.jit.TracerWarning)
        yield


def export_torchscript(module: ExportableEncoder, example: torch.Tensor,
                       path: str, meta: dict) -> None:
    """Trace, freeze and save; ``meta`` goes in as an extra file."""
    with torch.no_grad(), _fixed_size_trace():
        traced = torch.jit.trace(module, example)
        frozen = torch.jit.freeze(traced.eval())
    torch.jit.save(frozen, path, _extra_files={TS_META_FILE: json.dumps(meta)})


def export_onnx(module: ExportableEncoder, example: torch.Tensor, path: str,
                meta: dict, opset_version: int, dynamic_batch: bool) -> None:
    """``torch.onnx.export`` (TorchScript-based), metadata, checker."""
    import onnx
    axes = None
    if dynamic_batch:
        axes = {INPUT_NAME: {0: 'batch'}, OUTPUT_NAME: {0: 'batch'}}
    with torch.no_grad(), _fixed_size_trace():
        torch.onnx.export(
            module, (example, ),
            path,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes=axes,
            opset_version=opset_version,
            do_constant_folding=True,
            dynamo=False)
    proto = onnx.load(path)
    onnx.helper.set_model_props(proto, {META_KEY: json.dumps(meta)})
    onnx.checker.check_model(proto, full_check=True)
    onnx.save(proto, path)


@contextlib.contextmanager
def _no_preprocess_advice():
    """Drops ONNX Runtime's advice to run ``quant_pre_process`` first: it
    measured no better here (see the module docstring)."""

    def keep(record: logging.LogRecord) -> bool:
        return 'pre-processing before quantization' not in record.getMessage()

    root = logging.getLogger()
    root.addFilter(keep)
    try:
        yield
    finally:
        root.removeFilter(keep)


def quantize_int8(fp32_path: str, path: str, meta: dict, weight_type: str,
                  per_channel: bool) -> None:
    """ONNX Runtime dynamic quantisation of an fp32 ONNX export."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    with _no_preprocess_advice():
        quantize_dynamic(
            fp32_path,
            path,
            weight_type=getattr(QuantType, weight_type),
            per_channel=per_channel)
    proto = onnx.load(path)
    onnx.helper.set_model_props(proto, {META_KEY: json.dumps(meta)})
    onnx.checker.check_model(proto)
    onnx.save(proto, path)


def export(model: nn.Module,
           settings: dict,
           path: str,
           config: Optional[str] = None,
           checkpoint: Optional[str] = None) -> dict:
    """Export ``model`` as ``settings`` (see :func:`deploy_settings`) say.

    Args:
        model: An HJEPA model (weights loaded).
        settings: Flat deploy settings.
        path: The file to write (its folder is made).
        config, checkpoint: Recorded in the metadata.

    Returns:
        The metadata written with the export.
    """
    fmt = settings['format']
    module = build_exportable(model, settings['encoder'], settings['pooling'])
    example = _example(module, settings)
    extra = dict(config=config, checkpoint=checkpoint)
    if fmt != 'torchscript':
        extra['opset_version'] = settings['opset_version']
    if fmt == 'onnx-int8':
        extra.update(
            quantization='dynamic',
            weight_type=settings['weight_type'],
            per_channel=settings['per_channel'])
    meta = _metadata(module, settings, example, **extra)
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    if fmt == 'torchscript':
        export_torchscript(module, example, path, meta)
    elif fmt == 'onnx':
        export_onnx(module, example, path, meta, settings['opset_version'],
                    settings['dynamic_batch'])
    else:
        fp32 = path + '.fp32.tmp'
        try:
            export_onnx(module, example, fp32, meta, settings['opset_version'],
                        settings['dynamic_batch'])
            quantize_int8(fp32, path, meta, settings['weight_type'],
                          settings['per_channel'])
        finally:
            if osp.exists(fp32):
                os.remove(fp32)
    return meta


def read_metadata(path: str) -> dict:
    """The deploy metadata an export carries."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'exported model {path} does not exist')
    if path.endswith('.onnx'):
        import onnx
        props = {
            p.key: p.value
            for p in onnx.load(path, load_external_data=False).metadata_props
        }
        if META_KEY not in props:
            raise ValueError(f'{path} has no {META_KEY!r} metadata: not '
                             'written by tools/deployment/export.py')
        return json.loads(props[META_KEY])
    files = {TS_META_FILE: ''}
    try:
        torch.jit.load(path, map_location='cpu', _extra_files=files)
    except RuntimeError as err:
        raise ValueError(f'{path} is neither an .onnx file nor a '
                         f'TorchScript archive: {err}') from err
    if not files[TS_META_FILE]:
        raise ValueError(f'{path} has no {TS_META_FILE}: not written by '
                         'tools/deployment/export.py')
    return json.loads(files[TS_META_FILE])


def compare(ref: torch.Tensor, out: torch.Tensor) -> dict:
    """Relative max abs difference and cosines of two feature sets (the
    parity of verify.py and deploy_latency.py)."""
    if out.shape != ref.shape:
        return dict(rel_max=float('inf'), cos=-1.0, min_cos=-1.0)
    rms = ref.pow(2).mean().sqrt().clamp_min(1e-12)
    cos = F.cosine_similarity(out.flatten(1), ref.flatten(1), dim=1)
    return dict(
        rel_max=float((out - ref).abs().max() / rms),
        cos=float(cos.mean()),
        min_cos=float(cos.min()))


class ExportedModel:
    """An export of :func:`export`, run on the CPU in batches.

    Args:
        path: A ``.pt`` (TorchScript) or ``.onnx`` file.
        threads: Intra-op threads (ONNX Runtime); None for its default.
        batch_size: Images per run; a fixed-batch export runs its own
            batch size, the last batch padded.
    """

    def __init__(self,
                 path: str,
                 threads: Optional[int] = None,
                 batch_size: int = 256) -> None:
        self.path = path
        self.meta = read_metadata(path)
        self.batch_size = self.meta['batch_size'] or batch_size
        if path.endswith('.onnx'):
            import onnxruntime as ort
            opts = ort.SessionOptions()
            if threads is not None:
                opts.intra_op_num_threads = threads
                opts.inter_op_num_threads = 1
            self.session = ort.InferenceSession(
                path, opts, providers=['CPUExecutionProvider'])
            self.module = None
        else:
            self.session = None
            self.module = torch.jit.load(path, map_location='cpu')

    @property
    def input_size(self) -> Tuple[int, int]:
        return tuple(self.meta['input_size'])

    def run(self, images: torch.Tensor) -> torch.Tensor:
        """One forward pass of a batch the export accepts."""
        if self.session is not None:
            out = self.session.run(None, {INPUT_NAME: images.numpy()})[0]
            return torch.from_numpy(out)
        with torch.inference_mode():
            return self.module(images)

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """Features of 0-255 RGB images [N, 3, H, W] (any dtype)."""
        if tuple(images.shape[-2:]) != self.input_size:
            raise ValueError(f'images of size {tuple(images.shape[-2:])}; '
                             f'{self.path} takes {self.input_size}')
        outs = []
        for x in images.float().split(self.batch_size):
            n = len(x)
            if self.meta['batch_size'] and n < self.batch_size:
                pad = x[-1:].expand(self.batch_size - n, -1, -1, -1)
                x = torch.cat([x, pad])
            outs.append(self.run(x.contiguous())[:n].float())
        return torch.cat(outs)
