"""The benchmark names the machine it ran on: CPU model, family and model
numbers (virtual machines often report a bare 'AMD EPYC') and features."""
import os.path as osp
import sys

from tests.helpers import REPO

sys.path.insert(0, osp.join(REPO, 'tools', 'benchmarks'))
import pretrain_throughput  # noqa: E402

ZEN3 = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 1
model name\t: AMD EPYC
flags\t\t: fpu sse sse2 avx fma avx2 bmi2

processor\t: 1
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 143
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: avx2 fma avx512f avx512_bf16 amx_bf16 amx_tile
"""


def test_machine_names_family_model_and_features_of_the_first_cpu(tmp_path):
    path = tmp_path / 'cpuinfo'
    path.write_text(ZEN3)
    info = pretrain_throughput.machine(str(path))
    # the first processor's fields, not the last one's (or 'model name'
    # read as 'model')
    assert info['cpu'] == 'AMD EPYC (family 25, model 1)'
    assert info['features'] == ['avx2', 'fma']


def test_machine_without_cpuinfo_still_answers(tmp_path):
    info = pretrain_throughput.machine(str(tmp_path / 'absent'))
    assert info['cpu'] and info['features'] == []
    assert info['cores'] >= 1 and info['threads'] >= 1


def test_options_reach_the_child_processes_as_they_were_given():
    # the side-by-side rounds pass --cfg-options on to fresh processes
    import argparse

    from hjepa.utils import CfgOptionsAction
    options = {
        'model.head.levels': [dict(kind='patch'),
                              dict(kind='region', grid=2)],
        'model.head.level_weights': (1.0, 0.5),
        'work_dir': 'work_dirs/x',
        'model.compile': True
    }
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction)
    args = parser.parse_args(pretrain_throughput.options_args(options))
    assert args.cfg_options == options
