"""Compose CIFAR-10 photos into a detection and segmentation set.

    python tools/dataset_converters/make_cifar_composite.py \
        [--cifar-root data/cifar10] [--out data/cifar_composite]

Writes COCO instances JSON for mmdet and image / label-map pairs for mmseg
(see ``hjepa/datasets/cifar_composite.py``); unpacks CIFAR-10 first if
needed. The defaults are what ``configs/benchmarks/{mmdet,mmseg}/*_cifar-
composite.py`` read.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--cifar-root', default='data/cifar10')
    parser.add_argument('--out', default='data/cifar_composite')
    parser.add_argument('--num-train', type=int, default=8000)
    parser.add_argument('--num-val', type=int, default=1000)
    parser.add_argument('--canvas-size', type=int, default=64)
    parser.add_argument('--object-size', type=int, nargs=2, default=(24, 40))
    parser.add_argument('--max-objects', type=int, default=3)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()

    from hjepa.datasets import make_cifar_composite, prepare_cifar10
    prepare_cifar10(args.cifar_root)
    meta = make_cifar_composite(
        args.cifar_root,
        args.out,
        num_train=args.num_train,
        num_val=args.num_val,
        canvas_size=args.canvas_size,
        object_size=tuple(args.object_size),
        max_objects=args.max_objects,
        seed=args.seed)
    print(f'composite set at {args.out}: {meta["objects"]}')


if __name__ == '__main__':
    main()
