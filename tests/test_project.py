"""Project-level promises: the README's commands, the root `utils` re-export, the library's public API docs."""
import subprocess, sys, importlib, inspect
from pathlib import Path
ROOT = Path(__file__).parents[1]

def test_readme_is_generated_from_index():
    r = subprocess.run([sys.executable, str(ROOT/'.ci'/'make_readme.py'), '--check'], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr

def test_ci_runs_the_readme_test_command():
    readme, ci = (ROOT/'README.md').read_text(), (ROOT/'.ci'/'run').read_text()
    cmd = 'pip install -e ".[dev]" && nbdev-test && pytest'
    assert cmd in readme and 'nbdev-test && pytest' in ci

def test_root_utils_reexports(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    sys.modules.pop('utils', None)
    utils = importlib.import_module('utils')
    assert utils.set_seed(42) == 42 and utils.get_device().type in ('cpu', 'cuda', 'mps')

def test_public_functions_have_docs():
    import learnkit, pkgutil
    for m in pkgutil.iter_modules(learnkit.__path__):
        if m.name.startswith('_'): continue
        mod = importlib.import_module(f'learnkit.{m.name}')
        for name in getattr(mod, '__all__', []):
            obj = getattr(mod, name)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                assert inspect.getdoc(obj), f"learnkit.{m.name}.{name} has no docstring"
