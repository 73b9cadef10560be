"""The lesson linter: every notebook of the project passes it, and it rejects small bad notebooks."""
import json
from pathlib import Path
import pytest
from learnkit.lint import lint_notebook, cell_stats, is_lesson
from learnkit.exercises import answer_key, build_key

NBS = Path(__file__).parents[1]/'nbs'
NOTEBOOKS = sorted(NBS.glob('*.ipynb'))

@pytest.mark.parametrize('path', NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_passes_linter(path):
    assert lint_notebook(path) == []

def test_report_cell_lengths(capsys):
    "The median and the share of cells with at most 3 lines, per lesson (printed with pytest -s or -rA)."
    lessons = [p for p in NOTEBOOKS if is_lesson(p)]
    assert lessons, "no lesson notebooks found"
    with capsys.disabled():
        print('\nlesson                    code cells  median  <=3 lines')
        for p in lessons:
            s = cell_stats(p); print(f"{p.name:26}{s['n']:10}{s['median']:8}{s['short']:10.0%}")
            assert s['median'] <= 3

def _code(src): return {'cell_type': 'code', 'metadata': {}, 'source': src, 'outputs': [], 'execution_count': None}
def _md(src): return {'cell_type': 'markdown', 'metadata': {}, 'source': src}
HEAD = _code("#| default_exp demo\nfrom learnkit import utils\nfrom learnkit.exercises import *\nutils.set_seed(42)")
EXPORT = _code("#| export\ndef f(x): return x")
EX = _code("#| exercise\n# Exercise: double it\ntest_x = 2\ntest_y = ...  # fill in code here\ncheck('demo.double', test_y)")
SOL = _code("#| code-fold: true\ntest_x = 2\ntest_y = 2*test_x\ncheck('demo.double', test_y)")
SOL['metadata'] = {'jupyter': {'source_hidden': True}}
answer_key('demo.double', lambda ns: 2*ns['test_x'], wrong=['test_x', '4'])
answer_key('demo.one_wrong_then_more', lambda ns: 1, wrong=['0', '2'])

def _lint(tmp_path, *cells, name='15_demo.ipynb', floor=False):
    p = tmp_path/name
    p.write_text(json.dumps({'cells': list(cells), 'metadata': {}, 'nbformat': 4, 'nbformat_minor': 5}))
    return lint_notebook(p, check_clean=False, floor=floor)

def test_good_lesson_passes(tmp_path): assert _lint(tmp_path, HEAD, EXPORT, EX, SOL) == []

def test_seed_missing_or_repeated(tmp_path):
    assert any('first code cells' in p for p in _lint(tmp_path, _code("import torch"), _code("x = 1"), _code("y = 2"), HEAD, EXPORT))
    assert any('seeds again' in p for p in _lint(tmp_path, HEAD, EXPORT, _code("torch.manual_seed(1)")))
    assert any('seeds again' in p for p in _lint(tmp_path, HEAD, EXPORT, _code("np.random.seed(3)")))

@pytest.mark.parametrize('title', ['## Part 2: training', '### Step 3', '## 4. Results', '# Chapter IV'])
def test_positional_titles(tmp_path, title):
    assert any('positional title' in p for p in _lint(tmp_path, HEAD, EXPORT, _md(title)))

def test_fine_titles(tmp_path):
    assert _lint(tmp_path, HEAD, EXPORT, _md('## Stepping through time\n## 2D convolutions')) == []

def test_bad_exercises(tmp_path):
    no_prefix = _code("#| exercise\n# Exercise: e\ny = ...  # fill in code here\ncheck('demo.double', y)")
    assert any('without the test_ prefix: y' in p for p in _lint(tmp_path, HEAD, EXPORT, no_prefix, SOL))
    no_gap = _code("#| exercise\n# Exercise: e\ntest_y = 4\ncheck('demo.double', test_y)")
    assert any("fill in code here" in p for p in _lint(tmp_path, HEAD, EXPORT, no_gap, SOL))
    no_check = _code("#| exercise\n# Exercise: e\ntest_y = ...  # fill in code here\nassert test_y == 4")
    assert any('does not end with a check' in p for p in _lint(tmp_path, HEAD, EXPORT, no_check, SOL))
    assert any('not followed by a solution' in p for p in _lint(tmp_path, HEAD, EXPORT, EX, _code("x = 1")))
    assert any('does not parse' in p for p in _lint(tmp_path, HEAD, EXPORT, _code("#| exercise\n# Exercise: e\ntest_y = (  # fill in code here"), SOL))

def test_must_export(tmp_path):
    assert any("'#| export'" in p for p in _lint(tmp_path, HEAD, EX, SOL))

def test_long_cells(tmp_path):
    long = _code('\n'.join(f"a{i} = {i}" for i in range(6)))
    assert any('too long' in p for p in _lint(tmp_path, HEAD, EXPORT, long, long, long))

def test_error_outputs(tmp_path):
    err = _code("1/0"); err['outputs'] = [{'output_type': 'error', 'ename': 'ZeroDivisionError', 'evalue': '', 'traceback': []}]
    assert any('holds an error' in p for p in _lint(tmp_path, HEAD, EXPORT, err))
    tb = _code("x"); tb['outputs'] = [{'output_type': 'stream', 'name': 'stderr', 'text': 'Traceback (most recent call last):\n'}]
    assert any('holds an error' in p for p in _lint(tmp_path, HEAD, EXPORT, tb, name='00_foundation.ipynb'))

def test_unclean_notebook(tmp_path):
    p = tmp_path/'00_x.ipynb'
    p.write_text(json.dumps({'cells': [HEAD], 'metadata': {'foo': 1}, 'nbformat': 4, 'nbformat_minor': 5}))
    assert any('not clean' in q for q in lint_notebook(p))

def test_not_a_notebook(tmp_path):
    (tmp_path/'x.txt').write_text('hi'); assert 'not a notebook' in lint_notebook(tmp_path/'x.txt')[0]
    (tmp_path/'20_x.ipynb').write_text('{oops'); assert 'not a readable notebook' in lint_notebook(tmp_path/'20_x.ipynb')[0]

def test_check_lines_hold_no_answer(tmp_path):
    "The check line names the key and the answer, nothing else; the old checks that show the expected value are refused."
    for line in ["check_eq(test_y, 4, name='test_y')", "check('demo.double', test_y == 4)", "check('demo.double', test_y, 4)",
                 "check('demo.double', 2*test_x)", "check(name, test_y)"]:
        ex = _code(f"#| exercise\n# Exercise: e\ntest_x = 2\ntest_y = ...  # fill in code here\n{line}")
        assert any('check' in p for p in _lint(tmp_path, HEAD, EXPORT, ex, SOL)), line

def test_keys_and_solutions(tmp_path):
    missing = _code("#| exercise\n# Exercise: e\ntest_y = ...  # fill in code here\ncheck('demo.no_such_key', test_y)")
    assert any('no answer key' in p for p in _lint(tmp_path, HEAD, EXPORT, missing, SOL))
    other_module = _code("#| exercise\n# Exercise: e\ntest_y = ...  # fill in code here\ncheck('conv.out_rows', test_y)")
    assert any("should be named 'demo.<exercise>'" in p for p in _lint(tmp_path, HEAD, EXPORT, other_module, SOL))
    open_sol = _code(SOL['source'])
    assert any('not collapsed in JupyterLab' in p for p in _lint(tmp_path, HEAD, EXPORT, EX, open_sol))
    assert any("at least five a lesson needs" in p for p in _lint(tmp_path, HEAD, EXPORT, EX, SOL, floor=True))

def test_key_needs_two_wrong_answers():
    with pytest.raises(ValueError, match='at least two'): answer_key('demo.lonely', lambda ns: 1, wrong=['0'])
    with pytest.raises(ValueError, match='at least two'): build_key('demo.lonely_build', reference=abs, cases=lambda ns: [], wrong=[])

def test_floor_counts_what_a_lesson_needs(tmp_path):
    probs = _lint(tmp_path, HEAD, EXPORT, EX, SOL, floor=True)
    for need in ('five', 'build exercises', 'footing', 'flashcards', 'derivation', 'figure', 'widget'):
        assert any(need in p for p in probs), need
