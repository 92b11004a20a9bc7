"""Tutorial 4: add a component through the registry, then train with it.

    python docs/tutorials/4_add_a_component.py --work-dir work_dirs/tutorial_4

A new latent loss, L1 (the project has smooth L1, MSE and cosine), added
without touching ``hjepa/``:

1. Write the class, registered in H-JEPA's ``MODELS`` registry, and check it
   on a known answer.
2. In a notebook: build the smoke config with ``model.head.loss`` swapped
   and train it for a few iterations with an mmengine ``Runner``.
3. In a config file: put the class in a module, name it in
   ``custom_imports``, and run ``tools/train.py`` on that config: the way to
   use a component from the command line, mmdet and mmseg.
"""
# %%
import argparse
import os
import os.path as osp
import subprocess
import sys

import torch

from hjepa.models.losses.latent_losses import LatentLoss
from hjepa.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SMOKE = osp.join(REPO, 'configs', 'hjepa',
                 'hjepa_vit-tiny-p4_smoke_cifar10.py')


# %% 1. The component: a per-token distance; LatentLoss averages it over the
# tokens that count. force=True lets a notebook re-run the cell.
@MODELS.register_module(force=True)
class L1LatentLoss(LatentLoss):
    """Absolute error, averaged over feature dimensions."""

    def distance(self, pred, target):
        return (pred - target).abs().mean(-1)


# The same class as a module, for step 3 (a config imports it by name).
MODULE = '''from hjepa.models.losses.latent_losses import LatentLoss
from hjepa.registry import MODELS


@MODELS.register_module()
class L1LatentLoss(LatentLoss):
    """Absolute error, averaged over feature dimensions."""

    def distance(self, pred, target):
        return (pred - target).abs().mean(-1)
'''

CONFIG = f'''_base_ = [{SMOKE!r}]
custom_imports = dict(
    imports=['hjepa', 'my_losses'], allow_failed_imports=False)
model = dict(head=dict(loss=dict(_delete_=True, type='L1LatentLoss')))
'''


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/tutorial_4')
    return parser.parse_args()


def main():
    args = parse_args()
    from mmengine.runner import Runner

    from hjepa.utils import load_config, register_all_modules
    register_all_modules()

    # %% 1. A known answer: |1 - 0| over a token, the invalid token ignored.
    loss = MODELS.build(dict(type='L1LatentLoss'))
    pred, target = torch.ones(1, 2, 4), torch.zeros(1, 2, 4)
    target[0, 1] = 5  # a token that does not count
    value = loss(pred, target, valid=torch.tensor([[True, False]]))
    assert value.item() == 1.0, value
    print(f'L1LatentLoss on a known answer: {value.item()}')

    # %% 2. In Python: swap it into a config and train (one smoke epoch).
    cfg = load_config(
        SMOKE, {
            'model.head.loss': dict(type='L1LatentLoss'),
            'train_cfg.max_epochs': 1
        },
        work_dir=osp.join(args.work_dir, 'in_python'))
    runner = Runner.from_cfg(cfg)
    print(f'built head loss: {type(runner.model.head.loss_module).__name__}')
    runner.train()

    # %% 3. From a config file: the module and the config side by side;
    # PYTHONPATH makes the module importable, custom_imports imports it.
    os.makedirs(args.work_dir, exist_ok=True)
    with open(osp.join(args.work_dir, 'my_losses.py'), 'w') as f:
        f.write(MODULE)
    config = osp.join(args.work_dir, 'smoke_l1.py')
    with open(config, 'w') as f:
        f.write(CONFIG)
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [osp.abspath(args.work_dir)] +
        [p for p in [env.get('PYTHONPATH')] if p])
    cmd = [
        sys.executable,
        osp.join(REPO, 'tools', 'train.py'), config, '--work-dir',
        osp.join(args.work_dir, 'from_config'), '--cfg-options',
        'train_cfg.max_epochs=1'
    ]
    print(
        '+ PYTHONPATH=' + osp.abspath(args.work_dir) + ' ' + ' '.join(cmd),
        flush=True)
    subprocess.run(cmd, check=True, env=env)
    print('trained with L1LatentLoss from a config file')


if __name__ == '__main__':
    main()
