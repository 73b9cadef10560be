"""learnkit.data against a real HTTP server on 127.0.0.1 that serves the data mirror.

The mirror is the folder `$LEARNKIT_DATA` points at (CI sets it to ../shared/data)."""
import os, threading, http.server, functools
from pathlib import Path
import pytest
from learnkit import data

MIRROR = Path(os.environ.get('LEARNKIT_DATA', Path(__file__).parents[2]/'shared'/'data'))
pytestmark = pytest.mark.skipif(not (MIRROR/'names.txt').exists(), reason=f"no data mirror at {MIRROR}; set LEARNKIT_DATA")

class Handler(http.server.SimpleHTTPRequestHandler):
    "Serves the mirror; /fail/... answers 500, /cut/... sends half the bytes then drops the connection, /wrong/... sends other bytes."
    hits = []
    def log_message(self, *args): pass
    def do_GET(self):
        Handler.hits.append(self.path)
        kind, _, rest = self.path.lstrip('/').partition('/')
        if kind == 'fail': return self.send_error(500, 'server on fire')
        if kind in ('cut', 'wrong'):
            body = (MIRROR/rest).read_bytes()
            self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers()
            if kind == 'wrong': self.wfile.write(body[::-1])
            else: self.wfile.write(body[:len(body)//2]); self.wfile.flush(); self.connection.shutdown(2)
            return
        self.path = '/' + rest
        return super().do_GET()

@pytest.fixture(scope='module')
def server():
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Handler, directory=str(MIRROR)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()

def _leftovers(folder): return sorted(p.name for p in Path(folder).rglob('*') if p.is_file())

def test_first_download_then_cache(server, tmp_path):
    Handler.hits.clear()
    p = data.fetch('names/Irish.txt', url=f"{server}/ok/names/Irish.txt", folder=tmp_path)
    assert p == tmp_path/'names'/'Irish.txt' and p.read_bytes() == (MIRROR/'names'/'Irish.txt').read_bytes()
    assert Handler.hits == ['/ok/names/Irish.txt']
    assert data.fetch('names/Irish.txt', url=f"{server}/ok/names/Irish.txt", folder=tmp_path) == p
    assert len(Handler.hits) == 1, "the second call must read the cache, not the network"
    assert _leftovers(tmp_path) == ['Irish.txt']

def test_checksum_mismatch_saves_nothing(server, tmp_path):
    with pytest.raises(ValueError, match='checksum'):
        data.fetch('names.txt', url=f"{server}/wrong/names.txt", folder=tmp_path)
    assert _leftovers(tmp_path) == []

def test_server_error_is_one_clear_message(server, tmp_path):
    with pytest.raises(RuntimeError) as e: data.fetch('names.txt', url=f"{server}/fail/names.txt", folder=tmp_path)
    msg = str(e.value)
    assert f"{server}/fail/names.txt" in msg and str(tmp_path/'names.txt') in msg and '500' in msg
    assert _leftovers(tmp_path) == []

def test_interrupted_transfer_leaves_no_half_file(server, tmp_path):
    with pytest.raises(RuntimeError, match='could not download'):
        data.fetch('tinyshakespeare.txt', url=f"{server}/cut/tinyshakespeare.txt", folder=tmp_path)
    assert _leftovers(tmp_path) == []

def test_closed_network_names_url_and_place(tmp_path):
    import socket
    s = socket.socket(); s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]; s.close()  # nothing listens here
    url = f"http://127.0.0.1:{port}/names.txt"
    with pytest.raises(RuntimeError) as e: data.fetch('names.txt', url=url, folder=tmp_path)
    assert url in str(e.value) and 'LEARNKIT_DATA' in str(e.value)

def test_corrupted_cache_is_refused(tmp_path):
    (tmp_path/'names.txt').write_text('emma\nolivia\n')
    with pytest.raises(ValueError, match='not the expected file'): data.fetch('names.txt', folder=tmp_path)

def test_unknown_file():
    with pytest.raises(KeyError, match='unknown data file'): data.fetch('names/Klingon.txt')

def test_loaders_read_the_mirror(monkeypatch):
    monkeypatch.setenv('LEARNKIT_DATA', str(MIRROR))
    assert data.data_dir() == MIRROR
    first = data.names()
    assert len(first) == 32033 and first[0] == 'emma' and all(n.islower() for n in first[:100])
    by_lang = data.names_by_language()
    assert list(by_lang) == data.LANGUAGES and sum(map(len, by_lang.values())) == 20050
    text = data.tiny_shakespeare()
    assert len(text) == 1115394 and len(set(text)) == 65

@pytest.mark.parametrize('kind', ['missing', 'file'])
def test_mistyped_learnkit_data_is_an_error_naming_it(tmp_path, monkeypatch, capfd, kind):
    "A LEARNKIT_DATA that is no folder (a typo, or a file) is an error that names it; nothing is created or downloaded."
    import re
    bad = tmp_path/'typo'/'data' if kind == 'missing' else tmp_path/'a_file'
    if kind == 'file': bad.write_text('not a folder')
    monkeypatch.setenv('LEARNKIT_DATA', str(bad))
    before = sorted(tmp_path.rglob('*'))
    err = FileNotFoundError if kind == 'missing' else NotADirectoryError
    for load in (data.names, data.names_by_language, data.tiny_shakespeare, data.data_dir):
        with pytest.raises(err, match=re.escape(f'LEARNKIT_DATA={bad}')): load()
    assert sorted(tmp_path.rglob('*')) == before
    out = capfd.readouterr()
    assert 'Downloading' not in out.err + out.out

def test_missing_folder_argument_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match='no such folder'): data.fetch('names.txt', folder=tmp_path/'nope')
    with pytest.raises(FileNotFoundError, match='no such folder'): data.names(folder=tmp_path/'nope')
    assert not (tmp_path/'nope').exists()
