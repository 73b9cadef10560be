"""Every exercise of every lesson is mutation-tested: left unfilled it is 'not attempted', each registered wrong
answer put into its gap FAILS its check, and its worked solution passes.

Each lesson is executed once, top to bottom as Run All on a fresh copy would (unfilled gaps print a reminder and
do not stop the run; slow cells skipped), and every wrong answer is tried in the namespace its exercise sees. The check mechanism itself is tested below, including a property test that no
failure message of an answer exercise contains the expected value."""
import math, re
from pathlib import Path
import pytest
from hypothesis import given, settings, strategies as st
from learnkit.exercises import (run_notebook, notebook_cells, check_names, get_key, check, answer_key, build_key,
                                compare_answer, fill_gap, is_unattempted, NotAttempted, ExerciseFailed, check_eq, check_close)
from learnkit.lint import is_lesson

NBS = Path(__file__).parents[1]/'nbs'
LESSONS = [p for p in sorted(NBS.glob('*.ipynb')) if is_lesson(p)]
WITH_EXERCISES = [p for p in LESSONS if any(c.kind == 'exercise' for c in notebook_cells(p))]

def test_every_lesson_has_exercises(): assert WITH_EXERCISES == LESSONS and len(LESSONS) >= 8

@pytest.mark.parametrize('path', WITH_EXERCISES, ids=lambda p: p.name)
def test_exercises_reject_wrong_answers(path, capsys):
    rep = run_notebook(path, exercises=True, solutions=True, mutants=True, strict=False)
    assert rep.broken_cell is None, f"Run All stops at cell {rep.broken_cell}: {rep.broken_message}"
    exs = [c for c in notebook_cells(path) if c.kind == 'exercise']
    assert len(rep.exercises) == len(exs)
    for r in rep.exercises:
        assert r.status == 'not attempted', f"{r.title} (cell {r.idx}) left unfilled gave {r.status}: {r.message}"
    n_wrong = 0
    for c in exs:
        trials = [t for t in rep.trials if t.idx == c.idx]
        wrong = [t for t in trials if t.answer != 'solution']
        assert len(wrong) >= 2, f"{c.title} (cell {c.idx}): {len(wrong)} wrong answers registered"
        for t in wrong:
            assert t.status == 'failed', f"{c.title} (cell {c.idx}): wrong answer {t.answer!r} gave {t.status}: {t.message}"
            assert 'Traceback' not in t.message and len(t.message) < 600, f"{c.title}: message too long or raw: {t.message}"
        n_wrong += len(wrong)
        sols = [t for t in rep.trials if t.answer == 'solution' and t.idx == c.idx + 1 or t.answer == 'solution' and t.title == c.title]
        assert sols and all(t.status == 'passed' for t in sols), f"{c.title} (cell {c.idx}): solution gave {[(t.status, t.message) for t in sols]}"
    with capsys.disabled(): print(f"\n{path.name}: {len(exs)} exercises, {n_wrong} wrong answers, all rejected")

# The mechanism itself

def test_unattempted_and_forgotten_return():
    def test_f(x): ...
    def test_g(x): y = x
    def test_h(x): return x
    assert is_unattempted(...) and is_unattempted(test_f) and not is_unattempted(test_g) and not is_unattempted(test_h)
    build_key('demo.ident', reference=lambda x: x + 1, cases=lambda ns: [('one', (1,)), ('two', (2,))], wrong=['return x', 'return 0'])
    with pytest.raises(ExerciseFailed, match='forget `return`'): check('demo.ident', test_g)
    with pytest.raises(ExerciseFailed, match=r"case 'one'"): check('demo.ident', test_h)

def test_not_attempted_prints_unless_strict(monkeypatch, capsys):
    answer_key('demo.val', lambda ns: 3, wrong=['2', '4'])
    monkeypatch.delenv('LEARNKIT_STRICT', raising=False)
    test_v = ...
    check('demo.val', test_v)
    assert 'not attempted' in capsys.readouterr().out
    monkeypatch.setenv('LEARNKIT_STRICT', '1')
    with pytest.raises(NotAttempted): check('demo.val', test_v)

def test_unknown_key_is_a_clear_error():
    with pytest.raises(KeyError, match='no answer key'): get_key('nosuchmodule.x')

@settings(max_examples=300, deadline=None)
@given(st.one_of(st.integers(-10**6, 10**6), st.floats(-1e6, 1e6, allow_nan=False).filter(lambda x: abs(x) > 1e-3)),
       st.one_of(st.integers(-10**6, 10**6), st.floats(-1e6, 1e6, allow_nan=False)))
def test_answer_messages_never_show_the_expected_value(expected, got):
    "However wrong the answer, the message says direction and a coarse size, never the expected number."
    try: compare_answer(got, expected, 'test_x')
    except ExerciseFailed as e:
        msg = re.sub(r'\(by [^)]*\)', '', str(e))  # the coarse bands (1%, 10-50%, 2x) are fixed words
        for form in {repr(expected), str(expected), f"{expected:g}", f"{expected:.4g}"}:
            assert not re.search(rf'(?<![\d.]){re.escape(form)}(?![\d])', msg.replace('test_x', '')), (expected, got, msg)

def test_fill_gap():
    assert fill_gap("test_y = ...  # fill in code here\ncheck('a.b', test_y)", "2*x") == "test_y = 2*x  # fill in code here\ncheck('a.b', test_y)"
    body = fill_gap("def test_f(x):\n    ...  # fill in code here\ncheck('a.b', test_f)", "y = x\nreturn y")
    assert body == "def test_f(x):\n    y = x\n    return y\ncheck('a.b', test_f)"
    with pytest.raises(ValueError, match='one-line'): fill_gap("test_y = ...  # fill in code here", "a\nb")
    assert check_names("x = 1\ncheck('conv.rows', test_r)") == ['conv.rows']

def test_old_checks_still_work_for_ordinary_cells(capsys):
    import torch
    check_eq((1, 2), (1, 2)); check_close(0.1 + 0.2, 0.3)
    with pytest.raises(ExerciseFailed): check_close(torch.tensor([0.3, 1.5]), [0.3, 1.0])
    with pytest.raises(NotAttempted): check_eq(..., 3)

def test_check_leaves_the_random_state_alone_and_cases_are_stable():
    "Trying an exercise must not shift the random numbers later cells draw; a key's random cases are the same every run."
    import torch
    seen = []
    build_key('demo.rng', reference=torch.relu, cases=lambda ns: seen.append(torch.randn(3)) or [('r', (seen[-1],))],
              wrong=['return x', 'return -x'])
    def test_f(x): return x.clamp(min=0)
    torch.manual_seed(1); a = torch.randn(2)
    torch.manual_seed(1); check('demo.rng', test_f); check('demo.rng', test_f); b = torch.randn(2)
    assert torch.equal(a, b) and torch.equal(seen[0], seen[1])

def test_runner_skips_raw_and_eval_false_cells(tmp_path):
    "A raw front-matter cell and an '#| eval: false' cell are not run (as nbdev-test), so they cannot break a learner's check."
    import json
    cells = [{'cell_type': 'raw', 'metadata': {}, 'source': '---\naliases: [old.html]\n---'},
             {'cell_type': 'code', 'metadata': {}, 'outputs': [], 'execution_count': None, 'source': '#| eval: false\nraise SystemError'},
             {'cell_type': 'code', 'metadata': {}, 'outputs': [], 'execution_count': None, 'source': 'x = 1'}]
    p = tmp_path/'demo.ipynb'; p.write_text(json.dumps({'cells': cells, 'metadata': {}, 'nbformat': 4, 'nbformat_minor': 5}))
    rep = run_notebook(p)
    assert rep.broken_cell is None, rep.broken_message

def test_message_names_the_variable_on_the_check_line():
    "Two test_ names with the same value: the message names the one passed to check, not the first one found."
    answer_key('demo.named', lambda ns: 5, wrong=['1', '2'])
    test_first = 3; test_second = 3
    with pytest.raises(ExerciseFailed, match='test_second is too small'): check('demo.named', test_second)

def test_timed_out_cell_is_stopped_not_left_spinning(tmp_path):
    "A runaway cell is interrupted after its timeout: no thread keeps a core and the GIL busy for the rest of the process."
    import json, threading, time
    cells = [{'cell_type': 'code', 'metadata': {}, 'outputs': [], 'execution_count': None, 'source': s} for s in
             ["x = 1", "#| exercise\n# Exercise: e\ntest_a = ...  # fill in code here\ncheck('demo.val', test_a)", "y = 2"]]
    p = tmp_path/'loop.ipynb'; p.write_text(json.dumps({'cells': cells, 'metadata': {}, 'nbformat': 4, 'nbformat_minor': 5}))
    before = threading.active_count()
    rep = run_notebook(p, solutions=False, cell_timeout=1, fills={1: "while True: pass"})
    assert [r.status for r in rep.exercises] == ['timed out']
    c0 = time.process_time(); time.sleep(1)
    assert time.process_time() - c0 < 0.2 and threading.active_count() <= before
