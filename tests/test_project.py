"""Project-level promises: the README's commands, the root `utils` re-export, the library's public API docs."""
import subprocess, sys, importlib, inspect, dataclasses
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

def _public_methods(cls):
    "Methods a class defines or patches itself (not inherited from torch), public or __init__/__call__."
    for k, v in vars(cls).items():
        if (not k.startswith('_') or k in ('__init__', '__call__')) and (inspect.isfunction(v) or isinstance(v, (staticmethod, classmethod, property))):
            yield k, v

def test_help_shows_our_docstrings():
    "Every public class's own methods carry a docstring, so help() shows ours, not torch's or nothing."
    import learnkit, pkgutil
    missing = []
    for m in pkgutil.iter_modules(learnkit.__path__):
        if m.name.startswith('_'): continue
        mod = importlib.import_module(f'learnkit.{m.name}')
        for name in getattr(mod, '__all__', []):
            obj = getattr(mod, name)
            if not inspect.isclass(obj) or obj.__module__ != mod.__name__: continue
            for k, v in _public_methods(obj):
                if k == '__init__' and dataclasses.is_dataclass(obj): continue  # generated: help() shows the class's fields
                f = v.fget if isinstance(v, property) else getattr(v, '__func__', v)
                if not (f.__doc__ or '').strip(): missing.append(f"learnkit.{m.name}.{name}.{k}")
    assert not missing, f"{len(missing)} public methods without a docstring: {', '.join(missing)}"

def test_notebooks_are_small():
    "Each notebook stays at most 1.5 MB, so the site and a learner's download stay light."
    big = {p.name: p.stat().st_size for p in (ROOT/'nbs').glob('*.ipynb') if p.stat().st_size > 1_500_000}
    assert not big, f"notebooks over 1.5 MB: {big}"
