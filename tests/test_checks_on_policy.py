"""Notebook 07's checkers: right answers pass, and None, NaN, infinity, strings and wrong answers get a "Not yet"
that says what to do."""
import math

import pytest
import torch

from course_utils import checks, lm, onpolicy_study


def verdict(capsys, ok, expected: bool, *phrases):
    out = capsys.readouterr().out
    assert ok is expected and out.startswith("Correct!" if expected else "Not yet:"), out
    for phrase in phrases:
        assert phrase in out, out
    return out


def test_reverse_kl_by_hand(capsys):
    def right(z_s, z_t, targets):
        keep = targets != lm.IGNORE
        log_s, log_t = z_s[keep].log_softmax(-1), z_t[keep].log_softmax(-1)
        return (log_s.exp() * (log_s - log_t)).sum(-1).mean()

    verdict(capsys, checks.reverse_kl_by_hand(right), True, "lm.token_reverse_kl")
    verdict(capsys, checks.reverse_kl_by_hand(None), False, "write `my_reverse_kl`")
    verdict(capsys, checks.reverse_kl_by_hand(lambda *a: None), False, "returned None")
    verdict(capsys, checks.reverse_kl_by_hand(lambda *a: "0.3"), False, "torch.Tensor")
    verdict(capsys, checks.reverse_kl_by_hand(lambda *a: torch.tensor(float("nan"))), False, "log_softmax")
    verdict(capsys, checks.reverse_kl_by_hand(lambda *a: torch.tensor(float("inf"))), False, "log_softmax")
    verdict(capsys, checks.reverse_kl_by_hand(lambda z_s, z_t, y: lm.token_distillation_loss(z_s, z_t, y)), False,
            "forward KL")
    verdict(capsys, checks.reverse_kl_by_hand(lambda z_s, z_t, y: lm.token_reverse_kl(z_s, z_t, torch.zeros_like(y))),
            False, "padding included")
    verdict(capsys, checks.reverse_kl_by_hand(lambda z_s, z_t, y: torch.zeros(2)), False, "one number")
    verdict(capsys, checks.reverse_kl_by_hand(lambda *a: 1 / 0), False, "ZeroDivisionError")


def test_kl_direction_fits_three_seeds_and_compares(capsys):
    verdict(capsys, checks.kl_direction("one peak"), True, "one peak")
    verdict(capsys, checks.kl_direction("both peaks"), False, "the fits say one peak")
    for bad in (None, float("nan"), "a", 1):
        verdict(capsys, checks.kl_direction(bad), False, "write your prediction first")


def test_the_fits_behind_it():
    for seed in range(3):
        reverse, forward = onpolicy_study.fit_bump("reverse", seed), onpolicy_study.fit_bump("forward", seed)
        assert max(reverse) > 0.7 and max(forward) < 0.2  # one peak; spread over both
        assert sum(reverse) == pytest.approx(1.0) and sum(forward) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="'forward' or 'reverse'"):
        onpolicy_study.fit_bump("sideways", 0)


def fake_results():
    return [onpolicy_study.StudentResult(name, seed, 0.05, 0.05, rate, 0.3, 0.5, 1000, 0, 1.0)
            for seed, rate in enumerate((0.30, 0.34)) for name in ("off_policy", "on_policy")]


def test_the_quiz(capsys):
    results = fake_results()
    assert checks.quiz_07({1: "c", 2: "b", 3: "b", 4: 0.32}, results) is True
    assert capsys.readouterr().out.count("Correct!") == 4
    assert checks.quiz_07({1: "a", 2: None, 3: "b", 4: float("nan")}, results) is False
    out = capsys.readouterr().out
    assert "1 of 4 right" in out and "Question 2: Not yet: replace None" in out and "not a finite number" in out
    verdict(capsys, checks.quiz_07("c b b", results), False, "as a dict")
    verdict(capsys, checks.quiz_07({5: "a"}, results), False, "not one of them")


def test_the_quizs_derail_rate(capsys):
    results = fake_results()
    verdict(capsys, checks.derail_rate(0.32, results), True, "32.0%")
    verdict(capsys, checks.derail_rate(0.3204, results), True)
    verdict(capsys, checks.derail_rate(torch.tensor(0.32), results), True)
    verdict(capsys, checks.derail_rate(0.40, results), False, "derail_rate column")
    verdict(capsys, checks.derail_rate(32, results), False, "not a percentage")
    for bad, says in ((None, "one number"), (float("nan"), "not a finite number"), (math.inf, "not a finite number"),
                      ("about a third", "does not read as a number"), (True, "yes/no"),
                      (torch.tensor([0.3, 0.3]), "reduce it to one")):
        verdict(capsys, checks.derail_rate(bad, results), False, says)
    verdict(capsys, checks.derail_rate(0.32, results[:0]), False, "pass the table's results")
