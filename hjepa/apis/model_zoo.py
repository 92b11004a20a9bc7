"""The model zoo: ``model-index.yml``, its metafiles and a user-local index.

Models are listed the OpenMMLab way: ``model-index.yml`` at the repository
root imports one metafile per family (``configs/hjepa/metafile.yml``), whose
``Models`` entries name a config, the weights (a URL or a path; none when
nothing is published), their ``Sha256`` and the metrics measured for them.
Paths are relative to the repository root.

Checkpoints trained here are registered in a user-local index,
``$HJEPA_HOME/model-index.yml`` (``~/.cache/hjepa`` by default), with the
hash of the file as registered: training is not bit-identical across
machines, so shipped entries carry hashes only for published files. A
user-local entry hides a shipped one of the same name.

Weights are fetched into ``$HJEPA_HOME/checkpoints`` and verified against
their sha256 before anything loads them.
"""
import difflib
import fnmatch
import hashlib
import os
import os.path as osp
import shutil
import urllib.request
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import yaml

from hjepa.utils.checkpoint import CheckpointError

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: The shipped index (absent from a non-editable install).
MODEL_INDEX = osp.join(REPO_ROOT, 'model-index.yml')
_URL_SCHEMES = ('http://', 'https://', 'file://')
_CHUNK = 1 << 20

REGISTER_HINT = ('register a checkpoint you trained with `python '
                 'tools/model_zoo.py register NAME CONFIG CHECKPOINT` (or '
                 'hjepa.apis.register_model), or pass checkpoint=PATH')


@dataclass
class ModelEntry:
    """One model of the zoo.

    Attributes:
        name: Its name, unique in the zoo.
        config: Absolute path of its config.
        weights: URL or absolute path of its checkpoint; None when no
            checkpoint is published.
        sha256: Hex digest of the checkpoint; None without weights.
        metrics: ``{metric: value}`` measured for the checkpoint.
        index: The index file that lists it.
    """
    name: str
    config: str
    weights: Optional[str] = None
    sha256: Optional[str] = None
    metrics: Dict[str, float] = field(default_factory=dict)
    index: str = ''


def hjepa_home() -> str:
    """``$HJEPA_HOME``, or ``~/.cache/hjepa``."""
    return osp.expanduser(
        os.environ.get('HJEPA_HOME') or osp.join('~', '.cache', 'hjepa'))


def user_index_path() -> str:
    """The user-local index, ``$HJEPA_HOME/model-index.yml``."""
    return osp.join(hjepa_home(), 'model-index.yml')


def _is_url(location: str) -> bool:
    return location.startswith(_URL_SCHEMES)


def _resolve(location: Optional[str], root: str) -> Optional[str]:
    if location is None or _is_url(location):
        return location
    return osp.normpath(osp.join(root, osp.expanduser(location)))


def _read_yaml(path: str) -> dict:
    try:
        with open(path) as f:
            data = yaml.safe_load(f) or {}
    except yaml.YAMLError as e:
        raise ValueError(f'model index {path} is not valid YAML: {e}') from e
    if not isinstance(data, dict):
        raise ValueError(f'model index {path} holds a {type(data).__name__}, '
                         'expected a mapping with Models or Import')
    return data


def _entry(model: dict, root: str, path: str) -> ModelEntry:
    name, config = model.get('Name'), model.get('Config')
    if not name or not config:
        raise ValueError(f'a model in {path} lacks a Name or a Config: '
                         f'{model}')
    metrics = {}
    for result in model.get('Results') or []:
        metrics.update(result.get('Metrics') or {})
    sha256 = model.get('Sha256')
    return ModelEntry(
        name=str(name),
        config=_resolve(str(config), root),
        weights=_resolve(model.get('Weights'), root),
        sha256=str(sha256).lower() if sha256 else None,
        metrics=metrics,
        index=path)


def read_index(path: str, root: Optional[str] = None) -> List[ModelEntry]:
    """The models of an index file and of the metafiles it imports.

    Args:
        path: ``model-index.yml`` or a metafile.
        root: What relative paths are relative to; the file's folder by
            default (for an imported metafile, the importer's root).
    """
    root = osp.dirname(osp.abspath(path)) if root is None else root
    data = _read_yaml(path)
    entries = []
    for metafile in data.get('Import') or []:
        entries += read_index(_resolve(metafile, root), root)
    entries += [_entry(m, root, path) for m in data.get('Models') or []]
    return entries


def model_entries() -> Dict[str, ModelEntry]:
    """Every model of the shipped and the user-local index, by name (a
    user-local entry hides a shipped one of the same name)."""
    entries = {}
    for path in (MODEL_INDEX, user_index_path()):
        if not osp.isfile(path):
            continue
        seen = set()
        for entry in read_index(path):
            if entry.name in seen:
                raise ValueError(f'model {entry.name!r} is listed twice in '
                                 f'{path} and its metafiles')
            seen.add(entry.name)
            entries[entry.name] = entry
    return entries


def list_models(pattern: Optional[str] = None) -> List[str]:
    """Names of the models in the zoo, sorted.

    Args:
        pattern: A shell-style pattern (``'hjepa_*cifar10'``); a pattern
            without wildcards matches names that contain it.
    """
    names = sorted(model_entries())
    if pattern is None:
        return names
    if not any(c in pattern for c in '*?['):
        pattern = f'*{pattern}*'
    return [n for n in names if fnmatch.fnmatch(n, pattern)]


def get_entry(name: str) -> ModelEntry:
    """The zoo entry called ``name``.

    Raises:
        ValueError: if there is none, listing the closest names.
    """
    entries = model_entries()
    if name in entries:
        return entries[name]
    close = difflib.get_close_matches(name, list(entries), n=5, cutoff=0.4)
    hint = (f'did you mean {", ".join(close)}?'
            if close else f'known: {", ".join(sorted(entries)) or "none"}.')
    raise ValueError(f'no model named {name!r} in the model zoo ('
                     f'{MODEL_INDEX} and {user_index_path()}); {hint} '
                     'hjepa.apis.list_models() lists them all')


def sha256sum(path: str) -> str:
    """Hex sha256 digest of a file."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(_CHUNK), b''):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_from(source: str, dst) -> None:
    if _is_url(source):
        with urllib.request.urlopen(source, timeout=60) as response:
            shutil.copyfileobj(response, dst, _CHUNK)
    else:
        if not osp.isfile(source):
            raise FileNotFoundError(f'checkpoint {source} does not exist')
        with open(source, 'rb') as src:
            shutil.copyfileobj(src, dst, _CHUNK)


def fetch_weights(entry: ModelEntry) -> str:
    """A verified local copy of an entry's checkpoint.

    The file is copied or downloaded into ``$HJEPA_HOME/checkpoints`` and
    kept only if its sha256 is the entry's; a cached copy is verified again
    on every call.

    Returns:
        The path of the cached checkpoint.

    Raises:
        ValueError: if the entry publishes no weights or no hash.
        CheckpointError: if the file's sha256 is not the entry's (the file
            is not kept).
        FileNotFoundError, urllib.error.URLError: if it cannot be fetched.
    """
    if entry.weights is None:
        raise ValueError(f'no weights are published for {entry.name!r} '
                         f'(listed in {entry.index}); {REGISTER_HINT}')
    if entry.sha256 is None:
        raise ValueError(f'model {entry.name!r} in {entry.index} names '
                         f'weights {entry.weights} but no Sha256 to verify '
                         'them with; add the hash to load them')
    cache = osp.join(hjepa_home(), 'checkpoints')
    os.makedirs(cache, exist_ok=True)
    base = osp.basename(entry.weights.split('?')[0]) or 'checkpoint.pth'
    path = osp.join(cache, f'{entry.name}-{entry.sha256[:8]}-{base}')
    if osp.isfile(path):
        if sha256sum(path) == entry.sha256:
            return path
        os.remove(path)  # changed since it was verified: fetch it again
    partial = f'{path}.{os.getpid()}.partial'
    try:
        with open(partial, 'wb') as f:
            _copy_from(entry.weights, f)
        got = sha256sum(partial)
        if got != entry.sha256:
            raise CheckpointError(
                f'checkpoint {entry.weights} of model {entry.name!r} has '
                f'sha256 {got}, expected {entry.sha256} (from '
                f'{entry.index}); it was not kept and nothing was loaded. '
                'The file is corrupt, truncated or another one: fetch it '
                'again, or register the new file')
        os.replace(partial, path)
    finally:
        if osp.exists(partial):
            os.remove(partial)
    return path


def _write_index(path: str, data: dict) -> None:
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = f'{path}.{os.getpid()}.partial'
    with open(tmp, 'w') as f:
        yaml.safe_dump(data, f, sort_keys=False)
    os.replace(tmp, path)  # never a half-written index


def register_model(name: str,
                   config: str,
                   checkpoint: str,
                   metrics: Optional[Dict[str, float]] = None,
                   overwrite: bool = False) -> ModelEntry:
    """Add a checkpoint to the user-local index under ``name``.

    The checkpoint is loaded into the config's model first (strictly, see
    :func:`hjepa.apis.get_model`), and its sha256 recorded: if the file
    changes later, loading it by name is refused.

    Args:
        name: The model's name; may hide a shipped entry of that name.
        config: The config the checkpoint was trained with.
        checkpoint: The checkpoint file (it stays where it is).
        metrics: ``{metric: value}`` measured for it.
        overwrite: Replace a user-local entry of the same name.

    Returns:
        The new entry.

    Raises:
        ValueError: if ``name`` is empty or holds spaces, or is registered
            already and ``overwrite`` is False.
        FileNotFoundError, CheckpointError: if the config or the checkpoint
            is missing, or the checkpoint does not fit the config's model.
    """
    from .inference import get_model  # builds models: imports the most
    if not name or any(c.isspace() for c in name):
        raise ValueError(f'model name {name!r} must be non-empty and hold '
                         'no spaces')
    for what, path in (('config', config), ('checkpoint', checkpoint)):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{what} {path} does not exist')
    index = user_index_path()
    data = _read_yaml(index) if osp.isfile(index) else {}
    models = [m for m in data.get('Models') or [] if m.get('Name') != name]
    if len(models) < len(data.get('Models') or []) and not overwrite:
        raise ValueError(f'model {name!r} is registered already in {index}; '
                         'pass overwrite=True (--force) to replace it')
    get_model(config, checkpoint=checkpoint)
    model = {
        'Name': name,
        'Config': osp.abspath(config),
        'Weights': osp.abspath(checkpoint),
        'Sha256': sha256sum(checkpoint),
    }
    if metrics:
        model['Results'] = [{
            'Task': 'Self-Supervised Learning',
            'Metrics': {
                k: float(v)
                for k, v in metrics.items()
            }
        }]
    data['Models'] = models + [model]
    _write_index(index, data)
    return _entry(model, osp.dirname(index), index)
