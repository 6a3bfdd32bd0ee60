"""Exercise checkers of notebooks 02 and 03 accept the right answer and explain a wrong one."""
import torch

from course_utils import checks, losses


def test_checks_02(capsys):
    cm = torch.zeros(10, 10, dtype=torch.long)
    cm[3, 5], cm[5, 3], cm[1, 9] = 20, 15, 30
    assert checks.most_confused_pair(("cat", "dog"), cm)
    assert not checks.most_confused_pair(("automobile", "truck"), cm)
    assert "another pair has 35" in capsys.readouterr().out
    assert not checks.most_confused_pair(("cat", "wolf"), cm)
    probs = torch.tensor([[0.9, 0.1], [0.8, 0.2]])
    assert checks.calibration(0.85, "over", probs, 0.5)
    assert not checks.calibration(0.85, "under", probs, 0.5)
    assert checks.calibration(0.85, "calibrated", probs, 0.84)
    assert not checks.calibration(0.7, "over", probs, 0.5)
    assert not checks.calibration(85, "over", probs, 0.5)  # a percentage: told to give a probability



def test_checks_03(capsys):
    z_s, z_t = torch.tensor([[2.0, 1.0, 0.0]], dtype=torch.float64), torch.tensor([[3.0, 0.5, 0.0]], dtype=torch.float64)
    right = losses.soft_loss(z_s, z_t, T=2.0).item()
    assert checks.soft_term_by_hand(right)
    assert not checks.soft_term_by_hand(right / 4)
    assert "multiply by T^2" in capsys.readouterr().out
    assert checks.structure_or_softness("b")
    assert not checks.structure_or_softness("a")
    assert "softness, structure and its knowledge" in capsys.readouterr().out
    assert not checks.structure_or_softness(None) and not checks.structure_or_softness("e")
    capsys.readouterr()
    assert not checks.soft_term_by_hand(round(right, 2))  # too few decimals: told so
    assert "give at least 4 decimals" in capsys.readouterr().out
    p_t, log_p_s = torch.softmax(z_t / 2, -1), torch.log_softmax(z_s / 2, -1)
    assert not checks.soft_term_by_hand(-4 * (p_t * log_p_s).sum().item())  # cross-entropy, not KL
    assert "not the KL" in capsys.readouterr().out


def test_checks_06(capsys):
    from course_utils import lm

    def right(z_s, z_t, targets):
        keep = targets != lm.IGNORE
        log_p_s, log_p_t = z_s[keep].log_softmax(-1), z_t[keep].log_softmax(-1)
        return (log_p_t.exp() * (log_p_t - log_p_s)).sum(-1).mean()

    def unmasked(z_s, z_t, targets):
        log_p_s, log_p_t = z_s.log_softmax(-1), z_t.log_softmax(-1)
        return (log_p_t.exp() * (log_p_t - log_p_s)).sum(-1).mean()

    assert checks.token_kl_by_hand(right)
    assert not checks.token_kl_by_hand(unmasked)
    assert "padding included" in capsys.readouterr().out
    assert not checks.token_kl_by_hand(lambda *a: None)
    assert not checks.token_kl_by_hand(lambda z_s, z_t, y: torch.zeros(3))
    assert not checks.token_kl_by_hand(None)
    assert checks.quirk_evidence("b")
    assert not checks.quirk_evidence("a") and not checks.quirk_evidence("e") and not checks.quirk_evidence(None)
    assert "transcripts" in capsys.readouterr().out


# ----------------------------------------------------------------------------- any answer, never a traceback
# Every checker of every checks module, found by introspection (a new checker is covered without a new test), is
# given NaN, inf, None, a string, a list and a 1 MB string as the learner's answer (its first argument); its other
# arguments are what the notebook passes (CONTEXT, by parameter name). Each answer gets one "Not yet: ..." line
# that says what was expected: never a traceback, never "Correct!", never a megabyte of output.
import importlib  # noqa: E402
import inspect  # noqa: E402
import math  # noqa: E402
import pkgutil  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_utils.checks import common  # noqa: E402

MODULES = [importlib.import_module(f"course_utils.checks.{m.name}") for m in pkgutil.iter_modules(checks.__path__)
           if m.name != "common"]
CHECKERS = sorted(name for module in MODULES for name, fn in inspect.getmembers(module, inspect.isfunction)
                  if fn.__module__ == module.__name__ and not name.startswith("_"))


def _panel():
    """A tiny interrogated panel (notebook 05's `run`): one suspect per group, two references."""
    from course_utils import detect_study

    def answers(name, group, hits):
        marks = {"watermark": torch.tensor([True] * hits + [False] * (20 - hits))}
        return detect_study.Answers(name, group, "api_label", 0, 0.5, 0.1, marks, 0.0, 0.0)
    return detect_study.Interrogation(0.9, 0.1, [answers("copy", "API copy", 12), answers("white-box", "white-box copy", 1),
                                                 answers("independent", "independent", 1),
                                                 answers("ref 1", "reference", 1), answers("ref 2", "reference", 2)])


def _students():
    """Notebook 07's table (`results`): two seeds of the off- and on-policy students."""
    from course_utils import onpolicy_study
    return [onpolicy_study.StudentResult(name, seed, 0.05, 0.05, rate, 0.3, 0.5, 1000, 0, 1.0)
            for seed, rate in enumerate((0.30, 0.34)) for name in ("off_policy", "on_policy")]


def _cm():
    cm = torch.zeros(10, 10, dtype=torch.long)
    cm[3, 5], cm[5, 3], cm[1, 9] = 20, 15, 30
    return cm


CONTEXT = {  # a checker's arguments after the answer, as the notebooks pass them
    "answer": "over", "entropy_goes": "down",
    "probs": torch.tensor([[0.9, 0.1], [0.8, 0.2]]), "accuracy": 0.5, "cm": _cm(),
    "curves": {"label": {"acc": [[0.5, 0.5], [0.8, 0.8]]}, "probs": {"acc": [[0.6, 0.6], [0.85, 0.85]]}},
    "budgets": [1000, 10_000], "prices": {"label": 1.0, "probs": 10.0}, "money": 10,
    "student_pred": torch.tensor([0, 1, 9, 3]), "teacher_pred": torch.tensor([0, 1, 9, 9]),
    "labels": torch.tensor([0, 1, 2, 3]), "curve": {10: 0.8, 25: 0.995, 50: 1.0}, "target": 0.99,
    "kl_with": 7.3e-09, "kl_without": 0.039,
    "logits": torch.tensor([[2.0, 0.1], [0.2, 1.5]]), "confidence": 0.7, "ratio": 64,
    "run": _panel(), "n": 10, "alpha": 0.01, "results": _students(),
    "measured": {"label": {1000: [0.5, 0.5], 10_000: [0.8, 0.8]}, "probs": {1000: [0.6, 0.6], 10_000: [0.85, 0.85]}},
    "what": "accuracy, new minus old",
}
BAD = {"nan": float("nan"), "np.nan": np.float64("nan"), "tensor nan": torch.tensor(float("nan")),
       "inf": float("inf"), "-inf": -math.inf, "None": None, "text": "abc", "list": [0.2], "list of text": ["b"],
       "1 MB text": "x" * 10 ** 6, "int": 3, "dict": {"a": 1}}


def _arguments(name):
    params = list(inspect.signature(getattr(checks, name)).parameters.values())[1:]
    missing = [p.name for p in params if p.default is p.empty and p.name not in CONTEXT]
    assert not missing, f"checks.{name} takes {missing}: add what its notebook passes to CONTEXT in this test"
    return {p.name: CONTEXT[p.name] for p in params if p.default is p.empty}


def test_every_checker_is_exported_and_guarded():
    assert CHECKERS, "no checker found"
    for name in CHECKERS:
        assert name in checks.__all__, f"checks.{name} is not exported by course_utils.checks"
        assert getattr(getattr(checks, name), "guarded", False), f"checks.{name} is not common.guarded"


@pytest.mark.parametrize("bad", BAD, ids=list(BAD))
@pytest.mark.parametrize("name", CHECKERS)
def test_any_answer_gets_one_not_yet_line_saying_what_was_expected(name, bad, capsys):
    answer = BAD[bad]
    ok = getattr(checks, name)(answer, **_arguments(name))
    out = capsys.readouterr().out
    assert ok is False, f"checks.{name}({bad}) said {out[:200]!r}"
    assert out.startswith("Not yet: ") and out.count("Not yet: ") == 1, out[:300]
    assert "Traceback" not in out and len(out) < common.MAX_MESSAGE + 100 and "x" * 100 not in out, out[:300]
    assert len(out.strip()) > len("Not yet: ") + 25  # says what was expected, not just "no"


@pytest.mark.parametrize("nan", [float("nan"), np.nan, torch.tensor(float("nan")), "nan", float("inf")])
def test_a_nan_answer_is_never_correct(nan, capsys):
    """Review 3.50, 3.51: both compared `abs(r - want) > tol` to reject, which is False for NaN."""
    assert not checks.half_temperature(nan, "down")
    assert not checks.calibration(nan, "over", torch.tensor([[0.9, 0.1], [0.8, 0.2]]), 0.5)
    assert not checks.same_mistake_rate(nan, *(CONTEXT[k] for k in ("student_pred", "teacher_pred", "labels")))
    out = capsys.readouterr().out
    assert out.count("not a finite number") == 3 and "Correct" not in out


def test_numbers_of_every_kind_are_read(capsys):
    probs = torch.tensor([[0.9, 0.1], [0.8, 0.2]])
    for right in (0.85, np.float32(0.85), np.float64(0.85), torch.tensor(0.85), torch.tensor([0.85]), "0.85", " 0.85 "):
        assert checks.calibration(right, "over", probs, 0.5), right
    for right in (6400, 6400.0, np.int64(6400), torch.tensor(6400.0), "6400"):
        assert checks.half_temperature(right, "down"), right
    assert checks.half_temperature(6400, " Down")  # the entropy's answer is read case- and space-insensitively
    assert not checks.half_temperature(True, "down")
    assert "yes/no questions" in capsys.readouterr().out


def test_the_review_s_raw_tracebacks_are_not_yet_lines(capsys):
    """Review 3.52-3.54: a text, a list, a 1 MB string, a number where a pair is expected."""
    probs = torch.tensor([[0.9, 0.1], [0.8, 0.2]])
    calls = [lambda: checks.soft_term_by_hand("abc"), lambda: checks.calibration("abc", "over", probs, 0.5),
             lambda: checks.same_mistake_rate("abc", *(CONTEXT[k] for k in ("student_pred", "teacher_pred", "labels"))),
             lambda: checks.half_temperature("abc", "down"), lambda: checks.soft_term_by_hand([0.2]),
             lambda: checks.soft_term_by_hand("x" * 10 ** 6), lambda: checks.structure_or_softness(["b"]),
             lambda: checks.buy_exposure(["probs"], CONTEXT["curves"], CONTEXT["budgets"], CONTEXT["prices"], 10),
             lambda: checks.most_confused_pair(3, _cm())]
    for call in calls:
        assert call() is False
        out = capsys.readouterr().out
        assert out.startswith("Not yet: ") and len(out) < 600, out[:300]


def test_a_function_checker_given_a_value_asks_for_the_function(capsys):
    assert not checks.temperature_softmax(0.5)
    assert "pass your function itself (its name, without parentheses), got 0.5 (a value of type float)" in capsys.readouterr().out


def test_close_accepts_only_finite_values_within_the_tolerance():
    assert common.close(1.0, 1.0 + 1e-7) and not common.close(1.0, 1.1)
    assert not common.close(float("nan"), float("nan")) and not common.close(float("inf"), float("inf"))
    assert not common.close(torch.ones(3), torch.ones(4)) and not common.close("abc", 1.0)
    assert common.shown("x" * 10 ** 6).endswith("... (1,000,000 characters)")
