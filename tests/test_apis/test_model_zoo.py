"""The model zoo: names, the user-local index, fetching and verifying."""
import functools
import hashlib
import http.server
import os
import runpy
import sys
import threading

import pytest
import torch
import yaml

from hjepa.apis import get_model, list_models, register_model
from hjepa.apis.model_zoo import MODEL_INDEX, read_index, sha256sum
from hjepa.utils.checkpoint import CheckpointError
from tests.helpers import REPO, SMOKE


@pytest.fixture
def server(smoke_checkpoint):
    """A loopback HTTP server of the checkpoint's folder."""

    class Quiet(http.server.SimpleHTTPRequestHandler):

        def log_message(self, *args):
            pass

    handler = functools.partial(
        Quiet, directory=os.path.dirname(smoke_checkpoint))
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd, f'http://127.0.0.1:{httpd.server_address[1]}'
    httpd.shutdown()
    httpd.server_close()


def write_index(home, **models):
    """A user-local index of ``{name: (weights, sha256)}`` on the smoke
    config."""
    home.mkdir(parents=True, exist_ok=True)
    entries = [
        dict(Name=name, Config=SMOKE, Weights=weights, Sha256=sha)
        for name, (weights, sha) in models.items()
    ]
    (home / 'model-index.yml').write_text(yaml.safe_dump(dict(Models=entries)))


def same_encoders(model, path):
    state = torch.load(path, weights_only=True)['state_dict']
    return all(
        torch.equal(v, state[f'target_encoder.{k}'])
        for k, v in model.target_encoder.state_dict().items())


def cached(home):
    folder = home / 'checkpoints'
    return sorted(os.listdir(folder)) if folder.exists() else []


def test_shipped_index_lists_configs_that_exist():
    entries = read_index(MODEL_INDEX)
    assert {'hjepa_vit-tiny-d6-p4_cifar10',
            'ijepa_vit-tiny-d6-p4_cifar10'} <= {e.name
                                                for e in entries}
    for entry in entries:
        assert os.path.isfile(entry.config), entry
        # no published file without its hash
        assert (entry.weights is None) == (entry.sha256 is None), entry
    by_name = {e.name: e for e in entries}
    # the default (sample=16) has no make train of its own yet: no metrics
    # borrowed from the all-patches default before it
    assert by_name['hjepa_vit-tiny-d6-p4_cifar10'].metrics == {}
    every = by_name['hjepa_vit-tiny-d6-p4_all-patches_cifar10']
    assert every.metrics['k-NN Top 1 (k=20)'] == 55.39
    three = by_name['hjepa_vit-tiny-d6-p4_regions-2-4_cifar10']
    assert three.metrics['k-NN Top 1 (k=20)'] == 55.62
    full = by_name['hjepa_vit-tiny-d6-p4_full-queries_cifar10']
    assert full.metrics['k-NN Top 1 (k=20)'] == 52.18
    earlier = by_name['hjepa_vit-tiny-d6-p4_shared-predictor_cifar10']
    assert earlier.metrics['k-NN Top 1 (k=20)'] == 56.48
    vicreg = by_name['hjepa_vit-tiny-d6-p4_vicreg_cifar10']
    assert vicreg.metrics['k-NN Top 1 (k=20)'] == 57.89
    full_vicreg = by_name['hjepa_vit-tiny-d6-p4_full-queries-vicreg_cifar10']
    assert full_vicreg.metrics['k-NN Top 1 (k=20)'] == 57.03


def test_list_models_pattern(home):
    assert list_models('*d6-p4*') == [
        'hjepa_vit-tiny-d6-p4_all-patches_cifar10',
        'hjepa_vit-tiny-d6-p4_cifar10',
        'hjepa_vit-tiny-d6-p4_full-queries-vicreg_cifar10',
        'hjepa_vit-tiny-d6-p4_full-queries_cifar10',
        'hjepa_vit-tiny-d6-p4_regions-2-4_cifar10',
        'hjepa_vit-tiny-d6-p4_shared-predictor_cifar10',
        'hjepa_vit-tiny-d6-p4_vicreg_cifar10', 'ijepa_vit-tiny-d6-p4_cifar10'
    ]
    assert list_models('small') == [
        'hjepa_vit-small-p4_cifar10', 'ijepa_vit-small-p4_cifar10'
    ]


def test_wrong_name_lists_close_matches(home):
    with pytest.raises(ValueError) as info:
        get_model('hjepa_vit-tiny-d6_cifar10')
    msg = str(info.value)
    assert "no model named 'hjepa_vit-tiny-d6_cifar10'" in msg
    assert 'did you mean hjepa_vit-tiny-d6-p4_cifar10' in msg


def test_pretrained_without_published_weights(home):
    with pytest.raises(ValueError) as info:
        get_model('hjepa_vit-tiny-d6-p4_cifar10', pretrained=True)
    msg = str(info.value)
    assert 'no weights are published' in msg
    assert 'tools/model_zoo.py register' in msg


def test_weights_from_http_and_local_path(home, server, smoke_checkpoint):
    httpd, url = server
    sha = sha256sum(smoke_checkpoint)
    write_index(
        home,
        served=(f'{url}/epoch_2.pth', sha),
        local=(smoke_checkpoint, sha))
    for name in ('served', 'local'):
        model = get_model(name, pretrained=True)
        assert same_encoders(model, smoke_checkpoint)
        assert not model.training
    assert len(cached(home)) == 2
    httpd.shutdown()  # the verified copy in the cache is enough now
    assert same_encoders(
        get_model('served', pretrained=True), smoke_checkpoint)


@pytest.mark.parametrize('source', ['http', 'local'])
def test_sha256_mismatch_is_refused(home, server, smoke_checkpoint, source):
    wrong = hashlib.sha256(b'another file').hexdigest()
    weights = f'{server[1]}/epoch_2.pth' if source == 'http' \
        else smoke_checkpoint
    write_index(home, bad=(weights, wrong))
    with pytest.raises(CheckpointError) as info:
        get_model('bad', pretrained=True)
    msg = str(info.value)
    assert weights in msg and f'expected {wrong}' in msg
    assert f'sha256 {sha256sum(smoke_checkpoint)}' in msg
    assert cached(home) == []  # the bad file was not kept


def test_changed_cached_file_is_fetched_again(home, smoke_checkpoint):
    write_index(home, local=(smoke_checkpoint, sha256sum(smoke_checkpoint)))
    get_model('local', pretrained=True)
    path = home / 'checkpoints' / cached(home)[0]
    path.write_bytes(path.read_bytes()[:1000])  # truncated in the cache
    assert same_encoders(get_model('local', pretrained=True), smoke_checkpoint)


class Payload:

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker, ))


def test_pickled_code_with_a_matching_hash_is_never_run(home, tmp_path):
    marker = str(tmp_path / 'pwned')
    path = tmp_path / 'payload.pth'
    torch.save(dict(state_dict={}, x=Payload(marker)), path)
    write_index(home, payload=(str(path), sha256sum(str(path))))
    with pytest.raises(CheckpointError, match='safe loading'):
        get_model('payload', pretrained=True)
    assert not os.path.exists(marker)


def test_register_model(home, smoke_checkpoint, tmp_path):
    entry = register_model(
        'my_smoke', SMOKE, smoke_checkpoint, metrics={'k-NN Top 1': 12.5})
    assert entry.sha256 == sha256sum(smoke_checkpoint)
    assert 'my_smoke' in list_models()
    index = yaml.safe_load((home / 'model-index.yml').read_text())
    assert index['Models'][0]['Weights'] == smoke_checkpoint
    with pytest.raises(ValueError, match='registered already'):
        register_model('my_smoke', SMOKE, smoke_checkpoint)
    register_model('my_smoke', SMOKE, smoke_checkpoint, overwrite=True)
    assert list_models('my_*') == ['my_smoke']

    # the registered file changes: refused, naming the expected hash
    changed = tmp_path / 'changed.pth'
    changed.write_bytes(open(smoke_checkpoint, 'rb').read())
    register_model('changing', SMOKE, str(changed))
    expected = sha256sum(str(changed))
    with open(changed, 'ab') as f:
        f.write(b'\0')
    with pytest.raises(CheckpointError, match=f'expected {expected}'):
        get_model('changing', pretrained=True)


def test_register_refuses_a_checkpoint_of_another_model(home, tmp_path):
    path = tmp_path / 'other.pth'
    torch.save(dict(state_dict={'target_encoder.x': torch.zeros(1)}), path)
    with pytest.raises(CheckpointError, match='does not match'):
        register_model('other', SMOKE, str(path))
    assert not (home / 'model-index.yml').exists()


def test_cli_register_and_list(home, smoke_checkpoint, monkeypatch, capsys):
    script = os.path.join(REPO, 'tools', 'model_zoo.py')

    def cli(*args):
        monkeypatch.setattr(sys, 'argv', [script, *args])
        runpy.run_path(script, run_name='__main__')
        return capsys.readouterr().out

    out = cli('register', 'cli_smoke', SMOKE, smoke_checkpoint, '--metric',
              'k-NN Top 1 (k=20)=30.5')
    assert 'registered cli_smoke' in out and sha256sum(smoke_checkpoint) in out
    out = cli('list', 'cli_*')
    assert out.startswith('cli_smoke\n') and 'k-NN Top 1 (k=20): 30.5' in out
    with pytest.raises(SystemExit, match='registered already'):
        cli('register', 'cli_smoke', SMOKE, smoke_checkpoint)


def test_get_model_is_strict_about_both_encoders(smoke_checkpoint, tmp_path):
    ckpt = torch.load(smoke_checkpoint, weights_only=True)
    ckpt['state_dict'] = {
        k: v
        for k, v in ckpt['state_dict'].items() if not k.startswith('backbone.')
    }
    path = tmp_path / 'no_context.pth'
    torch.save(ckpt, path)
    with pytest.raises(CheckpointError, match='context encoder'):
        get_model(SMOKE, checkpoint=str(path))


def test_get_model_argument_errors(home, smoke_checkpoint):
    with pytest.raises(ValueError, match='needs a zoo name'):
        get_model(SMOKE, pretrained=True)
    with pytest.raises(ValueError, match='not both'):
        get_model(
            'hjepa_vit-tiny-d6-p4_cifar10',
            checkpoint=smoke_checkpoint,
            pretrained=True)
    with pytest.raises(FileNotFoundError, match='nothing.py'):
        get_model('configs/nothing.py')
