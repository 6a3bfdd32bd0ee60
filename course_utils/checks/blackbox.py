"""Checkers of notebooks 04 and 04b: which exposure to buy, top-k answers to probabilities, a prediction against
a paired run (04), the same-mistake rate (04b), and both notebooks' quizzes."""
from __future__ import annotations

import numpy as np
import torch

from .. import copier, metrics, stats
from ..server import TopK
from .common import close, percentage, quiz, report


def buy_exposure(choice, measured: dict, prices: dict, money: float, tie: float = 0.01) -> bool:
    """Exercise 04.1: with `money` to spend and a price per 1,000 queries for each exposure, which exposure buys
    the most accurate copy? measured: {exposure: {budget: [accuracy per seed]}}; each price must buy a measured
    budget exactly. Exposures within `tie` (a share: 0.01 is one point) of the best are all accepted, and named."""
    if choice is None:
        return report(False, f"replace None with one of {sorted(prices)}.")
    if choice not in prices:
        return report(False, f"choose one of the exposures on sale, {sorted(prices)}; got {choice!r}.")
    expected = {}
    for e, price in prices.items():
        queries = round(money / price * 1000)
        if queries not in measured.get(e, {}):
            raise ValueError(f"{money:g} dollars at {price:g} per 1,000 buy {queries:,d} {e} queries, which were not "
                             f"measured (measured: {sorted(measured.get(e, {}))}). Choose prices that buy measured budgets.")
        expected[e] = (queries, float(np.mean(measured[e][queries])))
    best = max(expected, key=lambda e: expected[e][1])
    lines = "; ".join(f"{e}: {q:,d} queries -> {100 * a:.1f}%" for e, (q, a) in expected.items())
    tied = [e for e in expected if expected[e][1] >= expected[best][1] - tie]
    if choice in tied:
        others = [e for e in tied if e != choice]
        note = (f" Not told apart from {' and '.join(others)} (within {100 * tie:g} point of each other)."
                if others else "")
        return report(True, f"{choice} buys the best copy for {money:g} dollars.{note} {lines}.")
    return report(False, f"{choice} buys {expected[choice][0]:,d} queries, and the copies measured there reach about "
                          f"{100 * expected[choice][1]:.1f}%; another exposure does better. For each exposure, divide the "
                          "money by its price to get the queries it buys, then look up the copies measured at that budget.")


def topk_to_probs(fn) -> bool:
    """Exercise 04.2: rebuild a full distribution (N, C) from a top-k answer, hidden mass spread evenly."""
    if fn is None:
        return report(False, "define my_topk_to_probs(answer, num_classes) and pass the function itself.")
    answer = TopK(classes=torch.tensor([[3, 5], [0, 9]]), probs=torch.tensor([[0.6, 0.3], [0.98, 0.01]]))
    expected = copier.to_targets(answer, "top_k", num_classes=10)
    try:
        got = fn(answer, 10)
    except Exception as err:  # the learner's code: report, don't crash the notebook
        return report(False, f"your function raised {type(err).__name__}: {err}")
    if not isinstance(got, torch.Tensor) or tuple(got.shape) != (2, 10):
        shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
        return report(False, f"return a tensor shaped (N, num_classes) = (2, 10), got {shape}.")
    got = got.double()
    if not close(got.sum(1), torch.ones(2), 1e-4):
        return report(False, f"each row must sum to 1 (a probability distribution), yours sum to {got.sum(1).tolist()}.")
    if not close(got[0, 3], 0.6, 1e-4) or not close(got[0, 5], 0.3, 1e-4):
        return report(False, "the shown classes must keep their probabilities: row 0 should have 0.6 at class 3 and "
                              f"0.3 at class 5, yours has {got[0, 3]:.3f} and {got[0, 5]:.3f}. Use scatter_ or "
                              "index assignment with answer.classes.")
    if not close(got, expected, 1e-4):
        return report(False, "the hidden classes are off: the 8 hidden classes of row 0 should share the missing "
                              f"0.1 evenly (0.0125 each), yours hold {got[0, 0]:.4f} at class 0.")
    return report(True, "the shown probabilities stay, the missing mass is shared evenly by the hidden classes; "
                         "this is copier.to_targets(answer, 'top_k').")


def same_mistake_rate(value, student_pred: torch.Tensor, teacher_pred: torch.Tensor, labels: torch.Tensor) -> bool:
    """Exercise 04b.1: among the test images the teacher gets wrong, the share where the student gives
    the very same wrong answer."""
    if value is None:
        return report(False, "replace None with a number between 0 and 1.")
    expected = metrics.copied_errors(student_pred, teacher_pred, labels)
    if percentage(value, "the share"):
        return False
    if abs(float(value) - expected["same_mistake"]) < 1e-4:
        return report(True, f"on the {expected['n']} images the teacher gets wrong, the student repeats the teacher's "
                             f"exact mistake {expected['same_mistake']:.1%} of the time.")
    wrong_share = (teacher_pred.cpu() != labels.cpu()).float().mean().item()
    if abs(float(value) - (1 - wrong_share)) < 1e-4 or abs(float(value) - wrong_share) < 1e-4:
        return report(False, "that is the teacher's accuracy (or error rate), not the student's copying. Keep only "
                              "the images where teacher_pred != labels, then compare student_pred with teacher_pred there.")
    return report(False, f"{float(value):.4f} is not it. Mask = teacher_pred != labels; then the mean of "
                          "(student_pred[mask] == teacher_pred[mask]).")


def predicted_direction(choice, run, what: str) -> bool:
    """A 'predict, then run' exercise: choice 'higher', 'lower' or 'cannot tell'; `run` (a function returning a
    stats.paired_summary, new setting minus old, or that summary) runs only once a prediction is written."""
    options = ("higher", "lower", "cannot tell")
    if choice is None:
        return report(False, f"write your prediction first: one of {options}. Then run the cell.")
    if choice not in options:
        return report(False, f"choose one of {options}, as a string; got {choice!r}.")
    summary = run() if callable(run) else run
    told = stats.excludes_zero(summary)
    measured = ("higher" if summary["mean"] > 0 else "lower") if told else "cannot tell"
    interval = stats.format_interval(summary)
    if choice == measured:
        return report(True, f"{what}: {interval}, so '{measured}'.")
    return report(False, f"{what}: {interval}, which reads '{measured}' at these seeds, not '{choice}'. "
                          "An interval that includes zero cannot tell; one wholly above or below zero can.")


QUIZZES = {
    "04": {
        1: ("b", "a label API answers one class per image: the cheapest answer, the one a chat API gives.",
            {"a": "logits are what a white-box student sees; a closed API does not serve them.",
             "c": "a label answer carries no probability at all; that would be the probs exposure."}),
        2: ("c", "the floor is the copier's own student: same labels, same training, no queries.",
            {"a": "the twin is another reference: a second teacher trained like the first.",
             "b": "chance (10%) is far below what any trained student agrees with the teacher."}),
        3: ("a", "choices made on the test images would make the test score optimistic; validation images keep "
                 "the test for one measurement per copy.",
            {"b": "validation images are no cheaper to score than test images.",
             "c": "both come from the same test split, so they are alike; that is why validation predicts the test."}),
        4: ("b", "on random images the teacher's answers pile on a few classes, so they teach little about photos.",
            {"a": "the table of answers shows otherwise: a few classes take most of them.",
             "c": "the teacher answers every query, whatever the image."}),
    },
    "04b": {
        1: ("a", "a copy learns what the answers say, mistakes included: its teacher's quality caps it in practice.",
            {"b": "the copy's size matters too, but a weak teacher's answers are the first limit.",
             "c": "copies of the cheap teachers repeat their mistakes far more than the own student does."}),
        2: ("c", "the twin is a reference: copies can agree with a teacher more than its twin does.",
            {"a": "a twin sets no ceiling: a copy trained on the teacher's answers can agree with it more.",
             "b": "the twin never sees the teacher's answers: it is trained on the true labels, like the teacher."}),
        3: ("b", "like with like: the same student and the same training, labels by hand against answers bought.",
            {"a": "a ratio between a weak copy and a strong teacher compares two different products.",
             "c": "the teacher's training is the original's cost, not an alternative route to the copy."}),
    },
}


def quiz_04(answers: dict) -> bool:
    """Notebook 04's quiz: answers {question number: letter}; each question checked, with why, and a total."""
    return quiz(answers, QUIZZES["04"])


def quiz_04b(answers: dict) -> bool:
    """Notebook 04b's quiz: answers {question number: letter}; each question checked, with why, and a total."""
    return quiz(answers, QUIZZES["04b"])
