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

LESSONS = sorted(NBS.glob('[1-8][0-9]_*.ipynb'))
_re_dir = re.compile(r'^\s*#\s*\|\s*([\w-]+)', re.MULTILINE)

def _cells(path): return json.loads(Path(path).read_text())['cells']
def _src(c): return ''.join(c['source'])
def _directives(s): return set(_re_dir.findall(s))

def _processed(nbs):
    "The pre-render stage's copies of `nbs` in `_proc/` (nbdev reprocesses only notebooks newer than their copy)"
    from nbdev.serve import proc_nbs
    names = '|'.join(re.escape(p.name) for p in nbs)
    cache = proc_nbs(path=str(NBS), file_re=f'^({names})$')
    return {p: cache/p.name for p in nbs}

def test_lessons_export_with_source_shown():
    "`#| export` puts only a signature box on the site; lessons use `#| exports`, which shows the code too (the answer key, `#| export` + `#| hide`, is hidden on purpose)"
    bad = [f"{p.name} cell {i}" for p in LESSONS for i, c in enumerate(_cells(p))
           if c['cell_type'] == 'code' and 'export' in (d := _directives(_src(c))) and 'hide' not in d]
    assert not bad, f"use '#| exports' in lessons: {bad}"

def test_exported_definitions_visible_on_site():
    "Every top-level def/class a lesson exports appears, as written, in a shown code cell of its processed page"
    import ast
    assert len(LESSONS) >= 8
    proc, n, missing = _processed(LESSONS), 0, []
    for p in LESSONS:
        shown = '\n'.join(_src(c) for c in _cells(proc[p]) if c['cell_type'] == 'code'
                          and not re.search(r'^#\|\s*(echo:\s*false|include:\s*false|hide\b)', _src(c), re.MULTILINE))
        for c in _cells(p):
            s = _src(c)
            if c['cell_type'] != 'code' or 'exports' not in _directives(s): continue
            lines = s.splitlines()
            for node in ast.parse(s).body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    n += 1
                    line = lines[node.lineno-1]
                    if line not in shown: missing.append(f"{p.name}: {line.strip()}")
    assert n >= 60, f"only {n} exported definitions found in the lessons"
    assert not missing, "exported definitions not shown on the site:\n" + '\n'.join(missing)

def test_lessons_open_in_colab():
    "Each lesson links to itself on Colab near the top, and its first code cell installs learnkit only on Colab (hidden on the site)"
    for p in LESSONS:
        cells = _cells(p)
        md = [_src(c) for c in cells[:4] if c['cell_type'] == 'markdown']
        url = f'https://colab.research.google.com/github/learnkit/learnkit/blob/main/nbs/{p.name}'
        assert any(url in s for s in md), f"{p.name}: no Open in Colab link in its first cells"
        code = [_src(c) for c in cells if c['cell_type'] == 'code']
        assert 'hide' in _directives(code[0]) and "'google.colab' in sys.modules" in code[0], f"{p.name}: first code cell is not the Colab install cell"
        assert 'default_exp' in _directives(code[1]), f"{p.name}: the imports cell should follow the Colab cell"

_re_widget_text = re.compile(r'\s*(VBox|HBox|Box|GridBox|Tab|Accordion|Output|interactive|Interactive\w*|'
                             r'\w*Slider|Text|Textarea|Dropdown|Button|ToggleButtons?|Checkbox|Play)\(')

def test_no_widget_output_stored():
    "A stored widget renders on the static site as an empty box or as `VBox(children=(...))` text; lessons show widgets with utils.show_widget, which stores none"
    nbs, bad = sorted(NBS.glob('*.ipynb')), []
    assert len(nbs) >= 14
    for p in nbs:
        nb = json.loads(p.read_text())
        if nb['metadata'].get('widgets'): bad.append(f"{p.name}: widget state in metadata")
        for i, c in enumerate(nb['cells']):
            for o in c.get('outputs', []):
                d = o.get('data', {})
                if 'application/vnd.jupyter.widget-view+json' in d or _re_widget_text.match(''.join(d.get('text/plain', ''))):
                    bad.append(f"{p.name} cell {i}")
    assert not bad, f"widget outputs stored: {bad}"

def test_widget_display_goes_through_show_widget():
    "Lessons display widgets only through utils.show_widget (a bare display() of a widget stores it for the site)"
    bad = [f"{p.name} cell {i}" for p in LESSONS for i, c in enumerate(_cells(p)) if c['cell_type'] == 'code'
           and re.search(r'\bdisplay\(\s*widgets\.|\binteract(ive)?\(|@\s*(widgets\.)?interact', _src(c))]
    assert not bad, bad

def test_show_widget_headless():
    from learnkit.utils import show_widget
    assert show_widget(object()) is False  # pytest has no Jupyter kernel: nothing is displayed

def test_no_dunder_api_headings():
    "nbdev's API box heads each function with its name, and Markdown turns `__add__` into bold: lessons keep operators out of the boxes"
    proc, bad, n = _processed(LESSONS), [], 0
    for p in LESSONS:
        for c in _cells(proc[p]):
            for o in c.get('outputs', []):
                for h in re.findall(r'(?m)^#+ .*', ''.join(o.get('data', {}).get('text/markdown', ''))):
                    n += 1
                    if '__' in h: bad.append(f"{p.name}: {h}")
    assert n >= 30, f"only {n} API headings found: is _proc/ built?"
    assert not bad, bad
