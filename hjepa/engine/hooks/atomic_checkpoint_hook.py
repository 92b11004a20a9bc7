"""Checkpoints that a crash cannot leave half-written."""
import os
import os.path as osp
from typing import List, Optional

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook
from mmengine.runner import Runner

from hjepa.registry import HOOKS

#: Suffix of a checkpoint (or ``last_checkpoint``) still being written.
PARTIAL = '.partial'


def _fsync_dir(path: str) -> None:
    """Make a rename in directory ``path`` durable."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # platforms that cannot open a directory
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: str) -> None:
    with open(path, 'rb+') as f:
        f.flush()
        os.fsync(f.fileno())


def write_atomically(path: str, text: str) -> None:
    """Replace the file ``path`` by one holding ``text``, in one step."""
    tmp = path + PARTIAL
    with open(tmp, 'w') as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(osp.dirname(osp.abspath(path)))


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook``, with saves that a kill cannot break.

    mmengine deletes the oldest checkpoint before writing the new one, in
    place: a kill during the save (with ``max_keep_ckpts=1``) leaves only a
    partial file. This hook writes each checkpoint to ``<name>.partial`` in
    the same directory, flushes and fsyncs it, renames it over ``<name>``,
    then updates ``last_checkpoint`` the same way, and deletes the
    checkpoints beyond ``max_keep_ckpts`` only after that. Whenever the
    process dies, ``last_checkpoint`` names a complete checkpoint. Partial
    files of an interrupted save are removed when training starts again.

    Same arguments as ``CheckpointHook``. Remote backends and runners other
    than ``Runner`` (DeepSpeed saves directories on every rank) get
    ``CheckpointHook``'s behaviour.
    """

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if self._atomic(runner) and is_main_process():
            stale = self.remove_partial_files(runner)
            if stale:
                runner.logger.warning(
                    f'removed {len(stale)} partial file(s) of an interrupted '
                    f'checkpoint save: {stale}')

    def remove_partial_files(self, runner) -> List[str]:
        """Delete the ``*.partial`` files of this hook; return their paths."""
        folders = {self.out_dir, runner.work_dir}
        stale = sorted(
            osp.join(d, name) for d in folders if osp.isdir(d)
            for name in os.listdir(d) if name.endswith(PARTIAL))
        for path in stale:
            os.remove(path)
        return stale

    def _atomic(self, runner) -> bool:
        return isinstance(runner, Runner) and isinstance(
            self.file_backend, LocalBackend)

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        if not self._atomic(runner):
            return super()._save_checkpoint_with_step(runner, step, meta)
        hub = runner.message_hub
        kept = list(self.keep_ckpt_ids) if self.max_keep_ckpts > 0 else None
        outdated = self._keep(runner, step)
        filename = self.filename_tmpl.format(step)
        path = osp.join(self.out_dir, filename)
        self._saving = path
        try:
            runner.save_checkpoint(
                self.out_dir,
                filename + PARTIAL,
                self.file_client_args,
                save_optimizer=self.save_optimizer,
                save_param_scheduler=self.save_param_scheduler,
                meta=meta,
                by_epoch=self.by_epoch,
                backend_args=self.backend_args,
                **self.args)
        except BaseException:
            # nothing was published: forget the save
            if kept is not None:
                self.keep_ckpt_ids.clear()
                self.keep_ckpt_ids.extend(kept)
                hub.update_info('keep_ckpt_ids', kept)
            if is_main_process() and osp.exists(path + PARTIAL):
                os.remove(path + PARTIAL)
            raise
        finally:
            self._saving = None
        # `last_ckpt` names a complete checkpoint only
        self.last_ckpt = path
        hub.update_info('last_ckpt', path)
        if not is_main_process():
            return
        self._publish(path + PARTIAL, path)
        self._write_last_checkpoint(runner, path)
        for old in outdated:
            self._remove_checkpoint(old)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        # the checkpoint names itself as the last one, as CheckpointHook's do
        saving = getattr(self, '_saving', None)
        if saving is not None and 'message_hub' in checkpoint:
            checkpoint['message_hub'].setdefault('runtime_info',
                                                 {})['last_ckpt'] = saving

    def _keep(self, runner, step) -> List[str]:
        """Record ``step`` among the kept checkpoints (as CheckpointHook
        does) and return the paths it pushes out, to delete later."""
        if self.max_keep_ckpts <= 0 or (self.keep_ckpt_ids
                                        and self.keep_ckpt_ids[-1] == step):
            return []
        outdated = []
        if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
            old = self.keep_ckpt_ids.popleft()
            if old != step:
                outdated.append(
                    osp.join(self.out_dir, self.filename_tmpl.format(old)))
        self.keep_ckpt_ids.append(step)
        runner.message_hub.update_info('keep_ckpt_ids',
                                       list(self.keep_ckpt_ids))
        return outdated

    @staticmethod
    def _publish(tmp: str, path: str) -> None:
        """fsync the complete file, rename it over ``path``."""
        if osp.isfile(tmp):
            _fsync_file(tmp)
        os.replace(tmp, path)
        _fsync_dir(osp.dirname(osp.abspath(path)))

    @staticmethod
    def _write_last_checkpoint(runner, path: str) -> None:
        write_atomically(osp.join(runner.work_dir, 'last_checkpoint'), path)

    @staticmethod
    def _remove_checkpoint(path: Optional[str]) -> None:
        if osp.isfile(path):
            os.remove(path)
