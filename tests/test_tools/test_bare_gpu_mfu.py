"""The bare-GPU harness: ``hjepa.models`` with torch and the carried
wheels only, a training step measured, the card's peak looked up."""
import json
import os.path as osp
import subprocess
import sys
import zipfile

import pytest

from tests.helpers import REPO

sys.path.insert(0, osp.join(REPO, 'tools', 'benchmarks'))
import bare_gpu_mfu  # noqa: E402

#: What torch itself may pull in when a module of hjepa.models touches
#: one of its subpackages (installed with torch on any machine).
TORCH_OWN = ('torch', 'torchgen', 'triton', 'sympy', 'mpmath',
             'typing_extensions', 'filelock', 'jinja2', 'markupsafe',
             'networkx', 'fsspec', 'nvidia', 'setuptools', 'pkg_resources',
             '_distutils_hack', 'distutils', 'functorch',
             '_remote_module_non_scriptable')

#: Makes every package of ``bare_gpu_mfu.ABSENT`` unimportable, then runs
#: the harness as its own __main__ would.
BLOCKED_RUN = """
import importlib.abc, runpy, sys
ABSENT = {absent!r}
class Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ABSENT:
            raise ImportError(f'{{name}} is not on a bare machine')
sys.meta_path.insert(0, Absent())
sys.argv = [{script!r}] + {argv!r}
runpy.run_path({script!r}, run_name='__main__')
"""


def test_models_import_nothing_but_torch_and_the_carried_wheels():
    code = ('import json, sys\n'
            'import torch\n'
            'before = {m.split(".")[0] for m in sys.modules}\n'
            'import hjepa.models\n'
            'after = {m.split(".")[0] for m in sys.modules}\n'
            'print(json.dumps(sorted(after - before - '
            'set(sys.stdlib_module_names))))\n')
    out = subprocess.run([sys.executable, '-c', code],
                         cwd=REPO,
                         capture_output=True,
                         text=True,
                         check=True).stdout
    new = set(json.loads(out.strip().splitlines()[-1]))
    extra = {
        m
        for m in new - set(bare_gpu_mfu.CARRIED_MODULES) - set(TORCH_OWN)
        if m != 'hjepa' and not m.startswith('_cython_')
    }
    assert 'hjepa' in new and 'mmengine' in new
    assert not extra, (f'hjepa.models imports {sorted(extra)}, which '
                       'bare_gpu_mfu.CARRIED does not carry')


def test_harness_trains_and_measures_without_absent_packages(tmp_path):
    out = tmp_path / 'mfu.json'
    argv = [
        '--device', 'cpu', '--arch', 'tiny', '--img-size', '32',
        '--patch-size', '4', '--predictor-layers', '2', '--batch', '8',
        '--steps', '2', '--warmup', '1', '--flop-steps', '1', '--no-compile',
        '--no-peak', '--peak-tflops', '2', '--json',
        str(out)
    ]
    script = osp.join(REPO, 'tools', 'benchmarks', 'bare_gpu_mfu.py')
    code = BLOCKED_RUN.format(
        absent=bare_gpu_mfu.ABSENT, script=script, argv=argv)
    proc = subprocess.run([sys.executable, '-c', code],
                          cwd=REPO,
                          capture_output=True,
                          text=True,
                          env={
                              'OMP_NUM_THREADS': '1',
                              'PATH': '/usr/bin:/bin'
                          })
    assert proc.returncode == 0, proc.stderr[-3000:]
    r = json.loads(out.read_text())
    assert r['imported_absent_packages'] == []
    assert r['levels'] == 3 and r['batch'] == 8 and len(r['step_ms_all']) == 2
    assert r['images_per_s'] == pytest.approx(8 / (r['step_ms'] / 1000))
    # forward + backward of a ViT-Tiny/4 on 8 images is far above the
    # forward alone (~0.04 GFLOP per image for 12 blocks at 64 tokens)
    assert 0.05 < r['gflop_per_step'] < 50
    assert r['mfu'] == pytest.approx(r['model_tflops'] / 2)
    assert 'MFU' in proc.stdout and 'images/s' in proc.stdout


@pytest.mark.parametrize('name, tflops', [
    ('NVIDIA H200', 989.4),
    ('NVIDIA H100 80GB HBM3', 989.4),
    ('NVIDIA H100 PCIe', 756.0),
    ('NVIDIA A100-SXM4-80GB', 312.0),
    ('NVIDIA L40S', 362.1),
    ('NVIDIA L4', 121.0),
    ('Tesla T4', None),
])
def test_card_peak_by_name(name, tflops):
    peak = bare_gpu_mfu.card_peak(name)
    assert peak == (tflops and tflops * 1e12)


def test_wheels_are_unpacked_behind_what_the_machine_has(tmp_path):
    wheels = tmp_path / 'wheels'
    wheels.mkdir()
    with zipfile.ZipFile(wheels / 'carried_probe-1.0-py3-none-any.whl',
                         'w') as zf:
        zf.writestr('carried_probe/__init__.py', 'VALUE = 7\n')
    saved = list(sys.path)
    try:
        site = bare_gpu_mfu.unpack_wheels(str(wheels))
        assert sys.path[-1] == site and sys.path[:-1] == saved
        import carried_probe
        assert carried_probe.VALUE == 7
    finally:
        sys.path[:] = saved
        sys.modules.pop('carried_probe', None)
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match='no .whl files'):
        bare_gpu_mfu.unpack_wheels(str(empty))
