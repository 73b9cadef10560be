"""Promises about the site: every module is in nbdev's index, lessons show the code they build, no widget text."""
import importlib, json, re
from pathlib import Path
ROOT = Path(__file__).parents[1]
NBS, LIB = ROOT/'nbs', ROOT/'learnkit'

def test_every_module_in_modidx():
    "nbdev links API boxes and prose through `_modidx.py`; a module missing there (nbdev skips notebook paths containing 'auto') gets no links"
    import learnkit._modidx as mi
    importlib.reload(mi)
    mods = sorted(p.stem for p in LIB.glob('*.py') if p.name not in ('_modidx.py', '__init__.py'))
    assert len(mods) >= 10
    missing = [m for m in mods if f'learnkit.{m}' not in mi.d['syms']]
    assert not missing, f"not in learnkit/_modidx.py: {missing} (run nbdev-export, then nbdev's _build_modidx)"

def test_renamed_lesson_keeps_old_url():
    "11_autograd became 11_backprop (nbdev skips paths containing 'auto'); the old page autograd.html stays an alias"
    nb = json.loads((NBS/'11_backprop.ipynb').read_text())
    first = nb['cells'][0]
    assert first['cell_type'] == 'raw' and 'autograd.html' in ''.join(first['source'])
    assert not (NBS/'11_autograd.ipynb').exists()
