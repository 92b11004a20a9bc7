"""Set up CIFAR-10 as an ImageFolder: ``prepare_cifar10.py [DATA_ROOT]``.

Unpacks the offline archive (``../shared/data/cifar10-jpg.tar.gz`` or
``$HJEPA_CIFAR10_ARCHIVE``) or, where the network allows, downloads the
official one; says where it looked when it finds neither.
"""
import argparse
import sys

from hjepa.datasets import prepare_cifar10


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('data_root', nargs='?', default='data/cifar10')
    parser.add_argument(
        '--archive', action='append', help='archive path to try (repeatable)')
    parser.add_argument('--no-download', action='store_true')
    args = parser.parse_args()
    try:
        root = prepare_cifar10(
            args.data_root, args.archive, download=not args.no_download)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(str(e))
    print(f'CIFAR-10 ready at {root}')


if __name__ == '__main__':
    main()
