"""The `learnkit` command: check a learner's answers, collect flashcards, start a lesson; bad input gives one line."""
import json, re, shutil, sqlite3, subprocess, sys, zipfile
from pathlib import Path
import pytest
from learnkit.cli import main, check_notebook, format_report, report_ok, notebook_cards, cards_in_markdown, md_to_anki, new_lesson, lesson_paths, CLIError
from learnkit.exercises import notebook_cells
from learnkit.lint import lint_notebook

ROOT = Path(__file__).parents[1]
NBS = ROOT/'nbs'
def _code(src, meta=None): return {'cell_type': 'code', 'execution_count': None, 'metadata': meta or {}, 'outputs': [], 'source': src}
def _md(src): return {'cell_type': 'markdown', 'metadata': {}, 'source': src}

# A three-exercise lesson that registers its own answer key (a real lesson exports it to learnkit.<module>): the
# check tests do not depend on the lessons, which are rewritten often, and run in seconds.
MINI = {'cells': [
    _md('# Three readings'),
    _code("from learnkit.exercises import *\n"
          "answer_key('mini.mean', lambda ns: sum(ns['test_x']) / len(ns['test_x']), wrong=['sum(test_x)', 'test_x[1]'])\n"
          "answer_key('mini.sse', lambda ns: sum((v - ns['test_g'])**2 for v in ns['test_x']), wrong=['sum(v - test_g for v in test_x)', '0.0'])\n"
          "answer_key('mini.rng', lambda ns: max(ns['test_x']) - min(ns['test_x']), wrong=['max(test_x)', 'len(test_x)'])\n"
          "readings = [2.0, 4.0, 9.0]"),
    _code("#| exercise\n# Exercise: the mean of the readings\ntest_x = readings\ntest_mean = ...  # fill in code here\ncheck('mini.mean', test_mean)"),
    _code('#| code-fold: true\n#| code-summary: "Solution"\ntest_x = readings\ntest_mean = sum(test_x) / len(test_x)\ncheck(\'mini.mean\', test_mean)'),
    _code("guess = 5.0"),
    _code("#| exercise\n# Exercise: the squared error of a guess\ntest_x, test_g = readings, guess\ntest_sse = ...  # fill in code here\ncheck('mini.sse', test_sse)"),
    _code('#| code-fold: true\n#| code-summary: "Solution"\ntest_x, test_g = readings, guess\ntest_sse = sum((v - test_g)**2 for v in test_x)\ncheck(\'mini.sse\', test_sse)'),
    _code("#| exercise\n# Exercise: the range of the readings\ntest_x = readings\ntest_rng = ...  # fill in code here\ncheck('mini.rng', test_rng)"),
    _code('#| code-fold: true\n#| code-summary: "Solution"\ntest_x = readings\ntest_rng = max(test_x) - min(test_x)\ncheck(\'mini.rng\', test_rng)'),
], 'metadata': {}, 'nbformat': 4, 'nbformat_minor': 5}

def learner_copy(tmp_path, answers:dict|None=None, name='mine.ipynb', nb=None):
    "A copy of MINI where exercise i's cell source is replaced by `answers[i](exercise_src, solution_src)`."
    nb = json.loads(json.dumps(nb or MINI))
    cells = notebook_cells(nb)
    exs = [c for c in cells if c.kind == 'exercise']
    for i, f in (answers or {}).items():
        sol = next(c for c in cells if c.idx > exs[i].idx and c.kind == 'solution')
        nb['cells'][exs[i].idx]['source'] = f(exs[i].source, sol.source)
    p = tmp_path/name
    p.write_text(json.dumps(nb, indent=1))
    return p, exs

def solved(ex, sol): return '#| exercise\n' + ex.splitlines()[1] + '\n' + '\n'.join(l for l in sol.splitlines() if not l.startswith('#|'))
def wrong(ex, sol): return ex.replace('...  # fill in code here', '123.0')
def syntax_error(ex, sol): return ex.replace('...  # fill in code here', '(1 +')
def no_check(ex, sol): return '\n'.join(solved(ex, sol).splitlines()[:-1])  # the right answer, but the check line deleted

def run_cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, '-c', 'import sys; from learnkit.cli import main; sys.exit(main())', *args],
                          capture_output=True, text=True, cwd=cwd)

def test_correct_one_wrong_and_broken_fill_ins(tmp_path):
    n = len(learner_copy(tmp_path)[1])
    p, exs = learner_copy(tmp_path, {i: solved for i in range(n)})
    rep = check_notebook(p)
    assert [r.status for r in rep.exercises] == ['passed'] * n and report_ok(rep)

    p, _ = learner_copy(tmp_path, {i: (wrong if i == 1 else solved) for i in range(n)})
    before = p.read_bytes()
    rep = check_notebook(p)
    assert [r.status for r in rep.exercises] == ['passed', 'failed'] + ['passed'] * (n - 2)
    assert 'too large' in rep.exercises[1].message and '32' not in rep.exercises[1].message  # direction, never the expected value
    text = format_report(rep)
    assert f'✗ failed        {exs[1].title}' in text and f'1 failed' in text and not report_ok(rep)
    assert p.read_bytes() == before

    p, _ = learner_copy(tmp_path, {0: syntax_error})
    rep = check_notebook(p)
    assert rep.exercises[0].status == 'error' and 'SyntaxError' in rep.exercises[0].message
    assert [r.status for r in rep.exercises[1:]] == ['not attempted'] * (n - 1)

def test_unchecked_is_reported_apart_from_passed(tmp_path):
    "An exercise cell that ran without calling its check is 'unchecked': not passed, marked '?', and exit status 1."
    p, exs = learner_copy(tmp_path, {0: no_check, 1: solved, 2: solved})
    rep = check_notebook(p)
    assert [r.status for r in rep.exercises] == ['unchecked', 'passed', 'passed'] and not report_ok(rep)
    text = format_report(rep)
    assert f'? unchecked     {exs[0].title}' in text and 'never called its check' in text
    assert '2 passed, 1 unchecked (of 3)' in text
    r = run_cli('check', str(p))
    assert r.returncode == 1 and '? unchecked' in r.stdout, r.stdout + r.stderr

def test_broken_cell_is_not_blamed_on_an_exercise(tmp_path):
    nb = json.loads(json.dumps(MINI))
    i = next(c.idx for c in notebook_cells(nb) if c.kind == 'code' and 'guess = ' in c.source)  # between exercises 0 and 1
    nb['cells'][i]['source'] = 'raise RuntimeError("my experiment went wrong")'
    p = tmp_path/'broken.ipynb'; p.write_text(json.dumps(nb))
    rep = check_notebook(p)
    assert rep.broken_cell == i and 'my experiment went wrong' in rep.broken_message
    assert rep.exercises[0].status == 'not attempted' and {r.status for r in rep.exercises[1:]} == {'not run'}
    assert f'cell {i} (not an exercise)' in format_report(rep)

def test_command_exit_status_and_output(tmp_path):
    p, _ = learner_copy(tmp_path, {1: wrong})
    r = run_cli('check', str(p))
    assert r.returncode == 1 and '✗ failed' in r.stdout and 'not attempted' in r.stdout, r.stderr
    p2, exs = learner_copy(tmp_path, name='untouched.ipynb')   # the gaps left: all not attempted, exit 1 (not done yet)
    before = p2.read_bytes()
    r = run_cli('check', str(p2))
    assert r.returncode == 1 and f'untouched: {len(exs)} not attempted (of {len(exs)})' in r.stdout, r.stdout + r.stderr
    assert r.stdout.count('· not attempted') == len(exs) and p2.read_bytes() == before
    p3, _ = learner_copy(tmp_path, {i: solved for i in range(len(exs))}, name='done.ipynb')
    r = run_cli('check', str(p3))
    assert r.returncode == 0 and f'done: {len(exs)} passed (of {len(exs)})' in r.stdout, r.stdout + r.stderr

def test_check_help_says_when_it_exits_1():
    r = run_cli('check', '--help')
    assert r.returncode == 0 and 'exit status 0 only when every exercise passed' in ' '.join(r.stdout.lower().split())

def test_timed_out_cell_is_reported_and_the_report_printed(tmp_path):
    "A fill-in that loops forever: the report is still printed, that exercise says 'timed out', the rest are skipped."
    p, exs = learner_copy(tmp_path, {0: solved, 1: lambda ex, sol: ex.replace('...  # fill in code here', '0\nwhile True: pass')})
    r = run_cli('check', '--timeout', '3', str(p))
    assert r.returncode == 1, r.stdout + r.stderr
    assert f'✓ passed        {exs[0].title}' in r.stdout and exs[1].title in r.stdout and 'timed out' in r.stdout
    assert f'(of {len(exs)})' in r.stdout and '1 timed out' in r.stdout
    assert 'Tasks pending' not in r.stdout and 'endless loop' in r.stdout and len(r.stdout.splitlines()) <= 8, r.stdout

def all_lesson_cards():
    "Count '**Q:**' paragraph starts outside code fences in the lessons' markdown cells, independently of the parser."
    n = 0
    for p in lesson_paths(NBS):
        for c in notebook_cells(p):
            if c.kind != 'markdown': continue
            fence = False
            for line in c.source.splitlines():
                if line.lstrip().startswith('```'): fence = not fence
                elif not fence and line.startswith('**Q:**'): n += 1
    return n

def test_cards_round_trip(tmp_path):
    expected = all_lesson_cards()
    assert expected >= 20
    r = run_cli('cards', '--out', str(tmp_path))
    assert r.returncode == 0 and f'{expected} cards from' in r.stdout, r.stderr
    with zipfile.ZipFile(tmp_path/'learnkit_cards.apkg') as z: z.extract('collection.anki2', tmp_path)
    db = sqlite3.connect(tmp_path/'collection.anki2')
    notes = db.execute('select flds, tags from notes').fetchall()
    assert len(notes) == expected
    assert db.execute('select count(*) from cards').fetchone()[0] == expected
    assert all(re.search(r'learnkit::\d\d_\w+', t) for _, t in notes)
    fields = [f.split('\x1f') for f, _ in notes]
    einops = next(a for q, a in fields if 'einops' in q)   # 20_cnn's card with a code block
    assert "<pre><code>cols = F.unfold(x, k, padding=p)" in einops and '&#x27;o c kh kw -&gt; o (c kh kw)&#x27;' in einops
    size = next(a for q, a in fields if q.startswith('Output size of a convolution'))
    assert r'\(\lfloor (H + 2p - d(k-1) - 1)/s \rfloor + 1\)' in size
    md = (tmp_path/'learnkit_cards.md').read_text()
    assert md.count('\n**Q:** ') == expected
    assert r'$\lfloor (H + 2p - d(k-1) - 1)/s \rfloor + 1$' in md and "out = rearrange(w, 'o c kh kw -> o (c kh kw)') @ cols" in md

def test_cards_tsv_format(tmp_path):
    r = run_cli('cards', str(NBS/'20_cnn.ipynb'), '--out', str(tmp_path), '--tsv')
    assert r.returncode == 0, r.stderr
    lines = (tmp_path/'learnkit_cards.txt').read_text().splitlines()
    assert lines[:4] == ['#separator:tab', '#html:true', '#guid column:1', '#tags column:4']
    rows = [l.split('\t') for l in lines[4:]]
    assert len(rows) == len(notebook_cards(NBS/'20_cnn.ipynb')) and all(len(r) == 4 and r[3] == 'learnkit::20_cnn' for r in rows)

def test_card_parser_keeps_code_and_latex():
    text = "## Flashcards\n\n**Q:** Softmax of $z$?\n**A:** $$p_i = e^{z_i}/\\sum_j e^{z_j}$$\n```python\n# not a heading\nx = '$5'\n```\n\n**Q:** Second?\n**A:** yes\n\n## Next"
    cs = cards_in_markdown(text, 'x')
    assert [c.question for c in cs] == ['Softmax of $z$?', 'Second?']
    assert "# not a heading\nx = '$5'" in cs[0].answer
    html = md_to_anki(cs[0].answer)
    assert r'\[p_i = e^{z_i}/\sum_j e^{z_j}\]' in html and "x = &#x27;$5&#x27;" in html

@pytest.fixture
def project(tmp_path):
    shutil.copytree(NBS, tmp_path/'nbs', ignore=shutil.ignore_patterns('_*', '.*', '*.ipynb'))
    for p in lesson_paths(NBS): shutil.copy(p, tmp_path/'nbs'/p.name)
    return tmp_path

def test_new_lesson_passes_linter_and_nbdev_test(project):
    r = run_cli('new', 'Mixture of experts', cwd=project/'nbs')
    assert r.returncode == 0, r.stderr
    last = max(int(p.name[:2]) for p in lesson_paths(NBS))
    path = project/'nbs'/f'{(last // 10 + 1) * 10}_mixture_of_experts.ipynb'
    assert path.exists() and f'created {path}' in r.stdout
    assert _lint_skeleton(path) == []
    assert lesson_paths(project/'nbs')[-1] == path
    before = path.read_bytes()
    r = run_cli('new', 'Mixture of Experts', cwd=project/'nbs')
    assert r.returncode == 2 and 'exists already' in r.stderr and r.stderr.count('\n') == 1
    assert path.read_bytes() == before
    with pytest.raises(CLIError, match='exists already'): new_lesson('CNN', project/'nbs')  # 20_cnn exists

@pytest.mark.parametrize('args, msg', [
    (['check', 'README.md'], 'not a notebook'),
    (['check', 'nbs/00_utils.ipynb'], 'not a learnkit lesson'),
    (['check', 'nbs/missing.ipynb'], 'no such file'),
    (['check', '--colour', 'blue'], 'unrecognized arguments: --colour'),
    (['check', '--timeout', '0', 'nbs/10_neural_nets.ipynb'], '--timeout must be a positive number of seconds, got 0'),
    (['check', '--timeout', '-5'], '--timeout must be a positive number of seconds, got -5'),
    (['cards', '--frobnicate'], 'unrecognized arguments'),
    (['new'], 'required: topic'),
    (['teach'], "unknown command 'teach'"),
])
def test_bad_input_is_one_line(args, msg):
    r = run_cli(*args)
    assert r.returncode == 2 and msg in r.stderr and r.stderr.count('\n') == 1 and 'Traceback' not in r.stderr, r.stderr

def test_not_a_project(tmp_path):
    r = run_cli('check', cwd=tmp_path)
    assert r.returncode == 2 and 'no learnkit project here' in r.stderr

def test_console_script_installed():
    exe = shutil.which('learnkit')
    assert exe, 'pip install -e . should put the learnkit command on PATH'
    r = subprocess.run([exe, '--help'], capture_output=True, text=True)
    assert r.returncode == 0 and 'check' in r.stdout and 'cards' in r.stdout and 'new' in r.stdout

def test_check_without_paths_prints_the_curriculum(tmp_path):
    "A project whose sidebar lists one lesson with exercises and one foundations page: a checklist of one box."
    nbs = tmp_path/'nbs'; nbs.mkdir()
    learner_copy(nbs, name='10_mini.ipynb')
    (nbs/'sidebar.yml').write_text(f"website:\n  sidebar:\n    contents:\n      - index.ipynb\n      - section: Lessons\n"
                                   f"        contents:\n          - 10_mini.ipynb\n      - section: Foundations\n"
                                   f"        contents:\n          - 00_utils.ipynb\n")
    r = run_cli('check', cwd=nbs)
    lines = r.stdout.splitlines()
    assert r.returncode == 1 and lines[0].startswith('learnkit curriculum') and len(lines) == 2, r.stdout + r.stderr
    assert lines[1].startswith('[ ] 10_mini') and 'Three readings' in lines[1] and '(0/3 exercises passed)' in lines[1]
    learner_copy(nbs, {i: solved for i in range(3)}, name='10_mini.ipynb')
    r = run_cli('check', cwd=nbs)
    assert r.returncode == 0 and r.stdout.splitlines()[1].startswith('[x] 10_mini') and '(3/3 exercises passed)' in r.stdout


def _fence_problems(md:str) -> list[str]:
    "Per card (a '**Q:**' paragraph to the next), fences must open at the start of a line, never after '**A:**', and balance."
    probs = []
    for block in re.split(r'\n(?=\*\*Q:\*\* )', md)[1:]:
        fences = [l for l in block.splitlines() if '```' in l]
        if any(not l.startswith('```') for l in fences): probs.append(block.splitlines()[0])
        elif len(fences) % 2: probs.append(block.splitlines()[0])
    return probs

def test_cards_markdown_renders_every_card():
    "Rendered as Markdown (mistune, CommonMark-style), every card keeps its question, answer and code blocks."
    import mistune
    from learnkit.cli import cards_markdown, Card
    cs = [c for p in lesson_paths(NBS) for c in notebook_cards(p)]
    cs.append(Card('A code answer?', "```python\nx = 1\n```\n\nand a sentence.", 'zz'))
    md = cards_markdown(cs)
    assert _fence_problems(md) == []
    html = mistune.html(md)
    n_code = sum((c.question + '\n' + c.answer).count('```') // 2 for c in cs)
    assert html.count('<strong>Q:</strong>') == len(cs) and html.count('<strong>A:</strong>') == len(cs)
    assert html.count('<pre><code') == n_code and '<code class="language-python">x = 1' in html

@pytest.mark.parametrize('make, msg', [
    (lambda d: (d/'bad.ipynb').write_text('{"cells": [ oops'), 'not a readable notebook'),
    (lambda d: (d/'bad.ipynb').write_text('{"nbformat": 4}'), 'not a readable notebook'),
    (lambda d: (d/'bad.ipynb').write_text('[1, 2]'), 'not a readable notebook'),
])
def test_cards_malformed_notebook_is_one_line(tmp_path, make, msg):
    make(tmp_path)
    r = run_cli('cards', str(tmp_path/'bad.ipynb'), '--out', str(tmp_path/'deck'))
    assert r.returncode == 2 and msg in r.stderr and r.stderr.count('\n') == 1 and 'Traceback' not in r.stderr, r.stderr
    assert not (tmp_path/'deck').exists()

def test_cards_out_is_a_file_is_one_line(tmp_path):
    (tmp_path/'taken').write_text('mine')
    for out in ['taken', 'taken/deck']:
        r = run_cli('cards', str(NBS/'20_cnn.ipynb'), '--out', str(tmp_path/out))
        assert r.returncode == 2 and 'not a folder' in r.stderr and r.stderr.count('\n') == 1 and 'Traceback' not in r.stderr, r.stderr
    assert (tmp_path/'taken').read_text() == 'mine'

def _files(d): return {p: p.read_bytes() for p in Path(d).rglob('*') if p.is_file()}

@pytest.mark.parametrize('args, msg', [
    (['new', 'class'], "'class' is a Python keyword"),
    (['new', 'Import'], "'import' is a Python keyword"),
    (['new', 'Sparse attention', '--number', '52'], 'lesson number 52 is taken by 52_gpt.ipynb'),
    (['new', 'Sparse attention', '--number', '10'], 'lesson number 10 is taken by 10_neural_nets.ipynb'),
])
def test_new_refuses_keywords_and_taken_numbers(project, args, msg):
    before = _files(project)
    r = run_cli(*args, cwd=project/'nbs')
    assert r.returncode == 2 and msg in r.stderr and r.stderr.count('\n') == 1 and 'Traceback' not in r.stderr, r.stderr
    assert 'nothing was written' in r.stderr and _files(project) == before

def _lint_skeleton(path):
    """The linter's problems with a new skeleton, its answer key registered as importing its exported module would, and
    without the lesson floor (five exercises, stored figures), which a skeleton with one example of each cannot meet."""
    import inspect
    from learnkit import lint
    key_cell = [c for c in notebook_cells(path) if c.kind != 'markdown'][-1]
    exec('\n'.join(l for l in key_cell.source.splitlines() if not l.startswith('#|')), {})
    kw = {'floor': False} if 'floor' in inspect.signature(lint.lint_notebook).parameters else {}
    return lint.lint_notebook(path, **kw)

def _skeleton(project):
    r = run_cli('new', 'Mixture of experts', cwd=project/'nbs')
    assert r.returncode == 0, r.stderr
    return lesson_paths(project/'nbs')[-1]

def test_new_skeleton_has_one_of_everything_a_lesson_needs(project):
    import keyword
    from learnkit import lint
    path = _skeleton(project)
    cells = notebook_cells(path)
    src = lambda kind: [c.source for c in cells if c.kind == kind]
    exs, sols = src('exercise'), src('solution')
    assert len(exs) == len(sols) == 2 and '# Footing:' in exs[0] and '# Exercise:' in exs[1]  # a footing question, an exercise
    key = "'mixture_of_experts."
    for ex, sol in zip(exs, sols):
        assert '...  # fill in code here' in ex and ex.splitlines()[-1].startswith(f"check({key}")
        assert '#| code-fold: true' in sol and '#| code-summary: "Solution"' in sol and sol.splitlines()[-1] == ex.splitlines()[-1]
    code, md = '\n'.join(src('code')), '\n'.join(src('markdown'))
    last = [c for c in cells if c.kind != 'markdown'][-1]
    assert {'export', 'hide'} <= last.directives.keys() and f'answer_key({key}' in last.source and 'wrong=[' in last.source
    assert re.search(r'wrong=\[[^\]]+,[^\]]+\]', last.source), 'at least two registered wrong answers'
    assert '## Answer key' in md and md.rindex('## Answer key') > md.rindex('## Flashcards')
    assert 'plt.subplots(' in code and 'widgets.interact' in code and 'plt.subplots(1, 3' in code  # figure, widget, static grid
    assert re.search(r'\$\$.+\$\$', md, re.S) and 'five exercises' in md
    assert len(notebook_cards(path)) >= 1
    assert _lint_skeleton(path) == []

def test_new_skeleton_runs_and_its_exercises_tell_right_from_wrong(project):
    "nbdev-test runs the skeleton; its exercises fail unfilled, fail every registered wrong answer, pass the solution."
    from nbdev.test import test_nb
    from learnkit.exercises import run_notebook
    path = _skeleton(project)
    ok, _ = test_nb(path, skip_flags=['slow', 'exercise'])
    assert ok
    nb = json.loads(path.read_text())   # the key cell is exported, not imported here: run it as the first cell
    nb['cells'].insert(0, dict(nb['cells'][-1], id='keys0000'))
    path.write_text(json.dumps(nb))
    rep = run_notebook(path, mutants=True)
    assert [r.status for r in rep.exercises] == ['not attempted'] * 2 and rep.broken_cell is None, rep
    wrong = [t for t in rep.trials if t.answer != 'solution']
    assert len(wrong) == 4 and all(t.status == 'failed' for t in wrong), wrong
    assert [t.status for t in rep.trials if t.answer == 'solution'] == ['passed'] * 2
