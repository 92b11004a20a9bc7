"""Config handling shared by the command-line tools."""
import os.path as osp
from typing import Optional

import torch
from mmengine.config import Config
from mmengine.logging import print_log


def load_config(path: str,
                cfg_options: Optional[dict] = None,
                work_dir: Optional[str] = None,
                launcher: str = 'none') -> Config:
    """Load ``path`` as the tools do.

    Applies ``--cfg-options``, sets the launcher, and defaults the work dir
    to ``work_dirs/<config name>``. Where no GPU is present, a distributed
    launch runs on CPUs: Gloo instead of NCCL, DDP without device ids, and
    (for ``torchrun``) the process group is started here.
    """
    cfg = Config.fromfile(path)
    cfg.launcher = launcher
    if cfg_options is not None:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(path))[0])
    if launcher != 'none' and not torch.cuda.is_available():
        # Distributed on CPUs: Gloo, DDP without device ids, and the process
        # group started here (mmengine's pytorch launcher would pick a CUDA
        # device first; it skips its own set-up once a group exists).
        dist_cfg = cfg.get('env_cfg', {}).get('dist_cfg', {})
        if dist_cfg.get('backend') == 'nccl':
            print_log(
                'no GPU: using the gloo backend instead of nccl',
                logger='current')
            cfg.env_cfg.dist_cfg.backend = 'gloo'
        wrapper = cfg.get('model_wrapper_cfg') or dict(
            type='MMDistributedDataParallel',
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
        wrapper['device_ids'] = None
        cfg.model_wrapper_cfg = wrapper
        if launcher == 'pytorch' and not torch.distributed.is_initialized():
            torch.distributed.init_process_group(
                backend=cfg.env_cfg.dist_cfg.get('backend', 'gloo'))
    return cfg
