"""Export the evaluated encoder of a checkpoint: TorchScript, ONNX, INT8.

    python tools/deployment/export.py CONFIG CKPT --format onnx
    python tools/deployment/export.py CONFIG CKPT --format onnx-int8 \
        --deploy-cfg configs/deploy/encoder_onnx-int8_32x32.py --out m.onnx

The exported model takes float32 RGB images on the 0-255 scale
[N, 3, H, W]: the data preprocessor's mean/std normalisation is inside the
exported graph. It gives the target encoder's (``--encoder context`` for
the other) last-block tokens, average-pooled [N, D] (``--pooling tokens``:
[N, L, D]). ``tools/deployment/verify.py`` checks it against PyTorch.
"""
import argparse
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO)


def parse_args(argv=None):
    from tools.deployment.exporter import FORMATS
    parser = argparse.ArgumentParser(
        description='Export an H-JEPA encoder (0-255 RGB in, features out)')
    parser.add_argument('config', help='the model config')
    parser.add_argument('checkpoint', help='a pretraining checkpoint')
    parser.add_argument('--format', required=True, choices=FORMATS)
    parser.add_argument(
        '--deploy-cfg',
        help='a configs/deploy/ file (default: the 32x32 one of the format)')
    parser.add_argument(
        '--encoder',
        choices=('target', 'context'),
        help='the encoder to export (default: the deploy config\'s, target)')
    parser.add_argument(
        '--pooling',
        choices=('avg', 'tokens'),
        help='avg [N, D] or tokens [N, L, D] (default: the deploy config\'s)')
    parser.add_argument(
        '--out',
        help='output file (default: next to the checkpoint, named after it '
        'and the format)')
    return parser.parse_args(argv)


def default_out(checkpoint: str, fmt: str, encoder: str, pooling: str) -> str:
    from tools.deployment.exporter import SUFFIXES
    stem = osp.splitext(checkpoint)[0]
    tag = fmt.replace('onnx-', '')
    if encoder != 'target':
        tag += f'_{encoder}'
    if pooling != 'avg':
        tag += f'_{pooling}'
    return f'{stem}_{tag}{SUFFIXES[fmt]}'


def main(argv=None) -> str:
    from tools.deployment.exporter import SUFFIXES, deploy_settings, export
    args = parse_args(argv)
    settings = deploy_settings(
        args.deploy_cfg,
        args.format,
        encoder=args.encoder,
        pooling=args.pooling)
    out = args.out or default_out(args.checkpoint, settings['format'],
                                  settings['encoder'], settings['pooling'])
    if not out.endswith(SUFFIXES[settings['format']]):
        raise ValueError(f'--out {out}: a {settings["format"]} export must '
                         f'end in {SUFFIXES[settings["format"]]}')
    from hjepa.apis import get_model
    model = get_model(args.config, checkpoint=args.checkpoint)
    meta = export(model, settings, out, args.config, args.checkpoint)
    shape = '[N, D]' if meta['pooling'] == 'avg' else '[N, L, D]'
    print(f'{out}: {meta["format"]}, {meta["encoder"]} encoder, '
          f'input [N, 3, {meta["input_size"][0]}, {meta["input_size"][1]}] '
          f'0-255 RGB (normalised inside), output {shape} '
          f'({meta["pooling"]}), batch '
          f'{"dynamic" if meta["dynamic_batch"] else meta["batch_size"]}')
    return out


if __name__ == '__main__':
    main()
