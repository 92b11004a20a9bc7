"""A neck from projects/ used by an mmdet config through custom_imports."""
import os
import os.path as osp
import subprocess
import sys

import torch

from tests.helpers import REPO

PROJECT_CFG = osp.join(
    REPO, 'projects', 'multi_layer_pyramid', 'configs',
    'mask-rcnn_hjepa-vit-tiny-d6-p4_multi-layer-pyramid_1xb16-800i_'
    'cifar-composite.py')


def test_project_neck_trains_through_custom_imports_alone(
        tmp_path, composite_root):
    # A fresh interpreter running tools/train.py: nothing but the config's
    # custom_imports can have registered the project's neck.
    ann = osp.join(composite_root, 'annotations', 'instances_val.json')
    options = [
        f'{loader}.dataset.data_root={composite_root}'
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')
    ] + [
        f'val_evaluator.ann_file={ann}', f'test_evaluator.ann_file={ann}',
        'train_dataloader.batch_size=2', 'val_dataloader.batch_size=2',
        'train_cfg.max_iters=1', 'model.backbone.init_cfg=None',
        'log_level=WARNING'
    ]
    env = dict(os.environ, OMP_NUM_THREADS='1')
    result = subprocess.run(
        [
            sys.executable, 'tools/train.py', PROJECT_CFG, '--work-dir',
            str(tmp_path), '--cfg-options'
        ] + options,
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300)
    assert result.returncode == 0, (
        result.stdout[-3000:] + result.stderr[-3000:])
    state = torch.load(tmp_path / 'iter_1.pth', weights_only=False)
    assert 'neck.projections.0.0.weight' in state['state_dict']
    scalars = next(tmp_path.glob('*/vis_data/scalars.json')).read_text()
    assert 'coco/bbox_mAP' in scalars  # evaluated after training
