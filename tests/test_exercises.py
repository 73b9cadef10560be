"""Every exercise of every lesson FAILS its own check when left unfilled; the solutions pass.

Each lesson is run once, up to its last exercise, with exercises and solutions both executed (slow cells skipped)."""
from pathlib import Path
import pytest
from learnkit.exercises import run_notebook, notebook_cells, check_close, check_eq, check_shape, check_true, NotAttempted, ExerciseFailed

NBS = Path(__file__).parents[1]/'nbs'
WITH_EXERCISES = [p for p in sorted(NBS.glob('*.ipynb')) if any(c.kind == 'exercise' for c in notebook_cells(p))]

def test_lessons_have_exercises():
    assert len(WITH_EXERCISES) >= 3

@pytest.mark.parametrize('path', WITH_EXERCISES, ids=lambda p: p.name)
def test_unfilled_exercises_fail_their_checks(path):
    rep = run_notebook(path, exercises=True, solutions=True, stop_after_last_exercise=True)
    assert rep.broken_cell is None, f"cell {rep.broken_cell} failed: {rep.broken_message}"
    n = sum(c.kind == 'exercise' for c in notebook_cells(path))
    assert len(rep.exercises) == n
    for r in rep.exercises:
        assert r.status in ('not attempted', 'failed'), f"{r.title} (cell {r.idx}) left unfilled gave {r.status}: {r.message}"

def test_checks_fail_with_friendly_messages():
    import torch
    with pytest.raises(NotAttempted, match='fill in code here'): check_eq(..., 3)
    with pytest.raises(NotAttempted): check_close(None, [1.0])
    with pytest.raises(ExerciseFailed, match=r'got:\s+15'): check_eq(15, 14)
    with pytest.raises(ExerciseFailed, match=r'shape \(2, 3\), expected shape \(3, 2\)'): check_close(torch.zeros(2, 3), torch.zeros(3, 2))
    with pytest.raises(ExerciseFailed, match=r'off by up to 0.5 at index \(1,\)'): check_close(torch.tensor([0.3, 1.5]), [0.3, 1.0])
    with pytest.raises(ExerciseFailed, match='NaN'): check_close([float('nan')], [1.0])
    with pytest.raises(ExerciseFailed, match=r'expected \(8, 16\)'): check_shape(torch.zeros(8, 15), (8, 16))
    with pytest.raises(ExerciseFailed, match='loss should'): check_true(False, 'the loss should drop')
    assert issubclass(NotAttempted, AssertionError) and issubclass(ExerciseFailed, AssertionError)

def test_checks_pass(capsys):
    import numpy as np, torch
    check_eq((1, 2), (1, 2)); check_eq(torch.arange(3), np.arange(3)); check_close(0.1 + 0.2, 0.3)
    check_shape(np.zeros((2, 5)), (2, None)); check_true(True, 'never shown')
    assert capsys.readouterr().out.count('is right') == 5
