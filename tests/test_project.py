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

def _modules():
    import learnkit, pkgutil
    return [importlib.import_module(f'learnkit.{m.name}') for m in pkgutil.iter_modules(learnkit.__path__) if not m.name.startswith('_')]

def _documented(mod):
    "Every public function and class of `mod`, and the methods its classes define themselves (public, `__init__`, `__call__`)."
    for name in getattr(mod, '__all__', []):
        obj = getattr(mod, name)
        if not (inspect.isfunction(obj) or inspect.isclass(obj)) or getattr(obj, '__module__', '') != mod.__name__: continue
        yield f"{mod.__name__}.{name}", obj
        if not inspect.isclass(obj): continue
        for k, v in vars(obj).items():
            if k.startswith('_') and k not in ('__init__', '__call__'): continue
            if k == '__init__' and dataclasses.is_dataclass(obj): continue  # generated: help() shows the class's fields
            f = v.fget if isinstance(v, property) else getattr(v, '__func__', v)
            if inspect.isfunction(f): yield f"{mod.__name__}.{name}.{k}", f

def test_help_shows_our_docstrings():
    "help() shows our own docstring for every public name and method, not torch's text (e.g. `Conv2d.__init__`) or nothing."
    import pydoc
    missing, n = [], 0
    for mod in _modules():
        for where, obj in _documented(mod):
            n += 1
            doc = inspect.getdoc(obj) or ''
            if not doc.strip() or 'Initialize internal Module state' in doc: missing.append(where); continue
            if doc.splitlines()[0] not in pydoc.render_doc(obj, renderer=pydoc.plaintext): missing.append(where + ' (not in help())')
    assert n > 200, f"only {n} public names and methods found"
    assert not missing, f"{len(missing)} without a docstring help() shows: {', '.join(missing)}"

def test_import_loads_no_pyplot():
    "pyplot costs about 0.4 s to import: no learnkit module imports it until a plot is drawn."
    code = ("import sys, importlib, pkgutil, learnkit\n"
            "for m in pkgutil.iter_modules(learnkit.__path__):\n"
            "    importlib.import_module('learnkit.' + m.name)\n"
            "    if 'matplotlib.pyplot' in sys.modules: print(m.name); break\n")
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == '', f"importing learnkit.{r.stdout.strip()} loads matplotlib.pyplot"

def test_notebooks_are_small():
    "Each notebook stays at most 1.5 MB, so the site and a learner's download stay light."
    big = {p.name: p.stat().st_size for p in (ROOT/'nbs').glob('*.ipynb') if p.stat().st_size > 1_500_000}
    assert not big, f"notebooks over 1.5 MB: {big}"
