"""Checkers of notebook 05: Cohen's kappa from a right/wrong table, what evidence supports an allegation, a
prediction about a cheaper watermark check, and the closing quiz."""
from __future__ import annotations

import math

from .common import close, multiple_choice, report


def _number(value):
    """A finite float, or None for anything else (None, a string, NaN, a list...)."""
    if isinstance(value, bool):
        return None
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return x if math.isfinite(x) else None


def kappa_from_counts(fn) -> bool:
    """Exercise 05.1: fn(both_right, teacher_only, suspect_only, both_wrong), the four cells of the right/wrong
    table of two models on N images, returns Cohen's kappa (a float)."""
    if fn is None or not callable(fn):
        return report(False, "write `my_kappa` and pass the function itself (no parentheses).")
    for table in ((60, 10, 5, 25), (40, 30, 20, 10), (5, 45, 45, 5)):
        a, b, c, d = table
        n = a + b + c + d
        observed, p_t, p_s = (a + d) / n, (a + b) / n, (a + c) / n
        chance = p_t * p_s + (1 - p_t) * (1 - p_s)
        want = (observed - chance) / (1 - chance)
        try:
            got = fn(*table)
        except Exception as err:  # the learner's code: report, don't crash the notebook
            return report(False, f"calling your function raised {type(err).__name__}: {str(err)[:200]}")
        if got is None:
            return report(False, "your function returned None: write its body and return kappa (one number).")
        if _number(got) is None:
            return report(False, f"your function returned {str(got)[:60]!r}; return kappa as one finite number.")
        got = _number(got)
        if close(got, observed, 1e-4) and not close(want, observed, 1e-4):
            return report(False, f"for the table {table} you returned {got:.4f}, the observed agreement (a + d) / N. "
                                  "Subtract the chance agreement p_t p_s + (1 - p_t)(1 - p_s), where p_t = (a + b) / N "
                                  "and p_s = (a + c) / N, and divide by 1 - chance.")
        if not close(got, want, 1e-4):
            return report(False, f"for the table {table} (both right, teacher only, suspect only, both wrong) you "
                                  f"returned {got:.4f}, expected {want:.4f}. Steps: N = a + b + c + d; observed = "
                                  "(a + d) / N; p_t = (a + b) / N; p_s = (a + c) / N; chance = p_t p_s + (1 - p_t)(1 - p_s); "
                                  "kappa = (observed - chance) / (1 - chance).")
    return report(True, "your kappa matches on three tables, including one where the two models err on opposite "
                        "images (kappa below zero).")


def strongest_evidence(choice) -> bool:
    """Exercise 05.2: which observation, alone, best supports "this model was distilled from ours"? (a) it agrees with
    our teacher on 62% of test images, our own models at most 58%; (b) it repeats 18% of our watermark's wrong answers
    over 139 logged queries, our own models at most 6%; (c) its kappa with our teacher is 0.12, our own models' at most
    0.11; (d) its accuracy is within one point of our teacher's."""
    why = {"a": "a few points above our own models, on one set of images: good models agree anyway, and a model a "
                "little better than ours agrees more. The margin is small against how much models vary.",
           "c": "0.12 against 0.11 is within the noise of kappa on a few hundred images (the teacher errs on few), "
                "and kappa between models of unequal accuracy has a low ceiling: every model's kappa is small.",
           "d": "an independent model of the same size trained on the same data reaches a similar accuracy; "
                "accuracy says nothing about where the answers came from."}
    return multiple_choice(choice, "b", "a keyed wrong answer has no reason to appear in a model that never saw our "
                           "answers, and the margin over our own models is three times their level on over a hundred "
                           "queries. It still shows only that the suspect learned from our API's answers, not who "
                           "trained it.", why)


def fewer_marks(prediction, run, n, alpha: float) -> bool:
    """Exercise 05.3 (predict, then run): how many API copies the per-suspect test flags at `alpha` when the lab
    checks only the first `n` logged watermark queries. `run`: detect_study.interrogate()'s answers."""
    from .. import detect_study  # noqa: PLC0415 (the checkers load without the studies)

    total = len(run.answers[0].matches["watermark"])
    if _number(n) is None or int(n) != n or not 1 <= n <= total:
        return report(False, f"set n to a whole number of logged queries between 1 and {total}; got {n!r}.")
    out = detect_study.decisions(run, alpha, first=int(n))
    counts = {g: (sum(d.flagged for d in out if d.group == g), sum(d.group == g for d in out))
              for g in ("API copy", "white-box copy", "independent")}
    best = min(d.p for d in out if d.group == "API copy")
    measured = (f"with the first {int(n)} marks the test flags {counts['API copy'][0]} of {counts['API copy'][1]} API "
                f"copies, {counts['white-box copy'][0]} of {counts['white-box copy'][1]} white-box copies and "
                f"{counts['independent'][0]} of {counts['independent'][1]} independent models; the smallest API copy's "
                f"p is {best:.2g} (alpha {alpha:g}).")
    guess = _number(prediction)
    if guess is None:
        return report(False, f"write your prediction first (a number of API copies, 0 to {counts['API copy'][1]}), "
                              "then run the cell again; the measured count is shown once you have predicted.")
    if abs(guess - counts["API copy"][0]) <= 1:
        return report(True, f"you predicted {guess:g}; {measured} Fewer marks leave fewer hits to tell a copy's rate from "
                            "the innocent one: the evidence grows with the number of marks, not only with the rate.")
    return report(False, f"you predicted {guess:g}; {measured} Each copy repeats a share of its marks, so with fewer marks "
                          "its count is small and noisy, and a count that an innocent model reaches by chance proves "
                          "nothing. Try another n and predict again.")


QUIZ = {  # question: (kind, right answer, what the right answer means)
    1: ("number", 0.1, "nine references: an innocent model like them is the highest of ten about one time in ten."),
    2: ("number", 1 / 924, "one split of C(12, 6) = 924 is the observed one: p cannot go below 1/924 = 0.0011."),
    3: ("choice", "b", "the watermark marks the API's answers; a copy that never bought one cannot repeat it."),
    4: ("choice", "c", "between an 89% teacher and a 50% copy, right/wrong can agree on at most 61% of the images, "
                       "so kappa cannot approach 1: a low kappa says little."),
}


def detection_quiz(answers: dict) -> bool:
    """Notebook 05's closing quiz: {question number: answer}; numbers for 1 and 2, a letter for 3 and 4."""
    if not isinstance(answers, dict):
        return report(False, f"answers is a dict {{1: ..., 2: ..., 3: ..., 4: ...}}, got {type(answers).__name__}.")
    right, notes = 0, []
    for q, (kind, want, why) in QUIZ.items():
        got = answers.get(q)
        if got is None:
            notes.append(f"{q}: not answered yet.")
        elif kind == "number" and (_number(got) is None or not close(_number(got), want, 0.02 * want)):
            share = _number(got) is not None and _number(got) > 1
            notes.append(f"{q}: not yet{' (give a share, not a percentage)' if share else ''}.")
        elif kind == "choice" and not (isinstance(got, str) and got.strip().lower() == want):
            notes.append(f"{q}: not yet; reread the section and try again.")
        else:
            right += 1
            notes.append(f"{q}: right: {why}")
    return report(right == len(QUIZ), f"{right} of {len(QUIZ)} right. " + " ".join(notes))
