"""Pretraining checkpoint -> backbone checkpoint for mmdet, mmseg, mmpretrain.

    python tools/model_converters/hjepa_to_backbone.py \
        work_dirs/main_job/epoch_22.pth work_dirs/main_job/backbone.pth

Keys come out as ``backbone.<name>``: load them with
``model.backbone.init_cfg=dict(type='Pretrained', checkpoint=DST,
prefix='backbone.')``.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def parse_args():
    parser = argparse.ArgumentParser(
        description='Extract an encoder from an H-JEPA checkpoint')
    parser.add_argument('src', help='pretraining checkpoint (tools/train.py)')
    parser.add_argument('dst', help='backbone checkpoint to write')
    parser.add_argument(
        '--encoder',
        choices=['target', 'context'],
        default='target',
        help='the EMA target encoder (default) or the context encoder')
    return parser.parse_args()


def main():
    args = parse_args()
    from hjepa.utils.checkpoint import convert_pretrain_checkpoint
    try:
        out = convert_pretrain_checkpoint(args.src, args.dst, args.encoder)
    except (ValueError, FileNotFoundError) as e:
        raise SystemExit(f'error: {e}')
    n = sum(v.numel() for v in out['state_dict'].values())
    print(f'{args.encoder} encoder: {len(out["state_dict"])} tensors, '
          f'{n / 1e6:.2f} M parameters -> {args.dst}')


if __name__ == '__main__':
    main()
