"""Kills the process with SIGKILL at one point of a checkpoint save.

Imported by a child ``tools/train.py`` through ``custom_imports``;
``HJEPA_KILL_POINT`` names the point, ``HJEPA_KILL_FILE`` the checkpoint
(its base name) whose save, or deletion, is hit:

- ``before_rename``: the temporary file is written (cut to half its size,
  as if the kill came mid-write) but not renamed;
- ``before_last_checkpoint``: renamed, ``last_checkpoint`` not updated;
- ``during_deletion``: deleting an old checkpoint.
"""
import os
import os.path as osp
import signal

from hjepa.engine.hooks.atomic_checkpoint_hook import AtomicCheckpointHook

POINT = os.environ.get('HJEPA_KILL_POINT')
FILE = os.environ.get('HJEPA_KILL_FILE')
POINTS = ('before_rename', 'before_last_checkpoint', 'during_deletion')


def _kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _install() -> None:
    hook = AtomicCheckpointHook
    publish, write_last, remove = (hook._publish, hook._write_last_checkpoint,
                                   hook._remove_checkpoint)

    def _publish(tmp, path):
        if POINT == 'before_rename' and osp.basename(path) == FILE:
            with open(tmp, 'rb+') as f:
                f.truncate(os.path.getsize(tmp) // 2)
            _kill()
        publish(tmp, path)

    def _write_last_checkpoint(runner, path):
        if POINT == 'before_last_checkpoint' and osp.basename(path) == FILE:
            _kill()
        write_last(runner, path)

    def _remove_checkpoint(path):
        if POINT == 'during_deletion' and osp.basename(path) == FILE:
            _kill()
        remove(path)

    hook._publish = staticmethod(_publish)
    hook._write_last_checkpoint = staticmethod(_write_last_checkpoint)
    hook._remove_checkpoint = staticmethod(_remove_checkpoint)


if POINT is not None:
    assert POINT in POINTS, POINT
    _install()
