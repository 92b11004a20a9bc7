"""Download the wheels ``bare_gpu_mfu.py`` carries to a bare GPU machine.

``hjepa.models`` needs mmengine and a few small packages
(``bare_gpu_mfu.CARRIED``) beyond torch; a machine that has torch alone
gets them as wheels for its Python, at the versions installed here (the
versions the tests ran with), without their dependencies (OpenCV and
matplotlib, which mmengine lists but ``hjepa.models`` does not import).

    python tools/benchmarks/bare_gpu_pack.py --python-version 3.12 \\
        --out work_dirs/bare_wheels [--tests]

``--tests`` adds pytest and its two dependencies, so that the GPU-only
tests (``tests/test_models/test_fsdp.py``) run there too
(``gpu_rows.sh`` does).
"""
import argparse
import glob
import os
import os.path as osp
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from bare_gpu_mfu import CARRIED  # noqa: E402

#: What ``pytest --noconftest`` needs beyond ``CARRIED``.
TEST_CARRIED = ('pytest', 'pluggy', 'iniconfig')


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('--python-version', default='3.12')
    parser.add_argument('--platform', default='manylinux2014_x86_64')
    parser.add_argument('--out', default='work_dirs/bare_wheels')
    parser.add_argument(
        '--tests',
        action='store_true',
        help='also pytest, pluggy and iniconfig, for the GPU-only tests')
    args = parser.parse_args()
    pins = []
    for name in CARRIED + (TEST_CARRIED if args.tests else ()):
        try:
            pins.append(f'{name}=={version(name)}')
        except PackageNotFoundError:
            raise SystemExit(f'{name} is not installed here, so there is no '
                             'tested version to pin; build the environment '
                             'first (make test)')
    os.makedirs(args.out, exist_ok=True)
    abi = 'cp' + args.python_version.replace('.', '')
    cmd = [
        sys.executable, '-m', 'pip', 'download', '--no-deps',
        '--only-binary=:all:', '--python-version', args.python_version,
        '--implementation', 'cp', '--abi', abi, '--abi', 'abi3', '--abi',
        'none', '--platform', args.platform, '--platform', 'any', '-d',
        args.out
    ] + pins
    subprocess.run(cmd, check=True)
    wheels = sorted(glob.glob(osp.join(args.out, '*.whl')))
    size = sum(osp.getsize(w) for w in wheels) / 2**20
    print(f'{len(wheels)} wheels, {size:.1f} MiB, in {args.out}:')
    for w in wheels:
        print('  ' + osp.basename(w))


if __name__ == '__main__':
    main()
