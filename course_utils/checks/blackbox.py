"""Checkers of notebooks 04 and 04b: which exposure to buy, top-k answers to probabilities (04), the
same-mistake rate (04b)."""
from __future__ import annotations

import numpy as np
import torch

from .. import blackbox_study, copier, metrics
from ..server import TopK
from .common import close, percentage, report


def buy_exposure(choice, curves: dict, budgets, prices: dict, money: float, tie: float = 0.01) -> bool:
    """Exercise 04.1: with `money` to spend and a price per 1,000 queries for each exposure, which
    exposure buys the most accurate student? curves: {exposure: {"acc": (budgets, seeds)}} as measured.

    tie: exposures whose expected accuracy is within this share (default 0.01: one point) of the best
    are not told apart by a few seeds; any of them is accepted, and the tie is named.
    """
    if choice is None:
        return report(False, f"replace None with one of {sorted(prices)}.")
    if choice not in prices or choice not in curves:
        return report(False, f"choose one of the exposures on sale, {sorted(set(prices) & set(curves))}; "
                              f"got {choice!r}.")
    expected = {}
    for e, price in prices.items():
        if e in curves:
            queries = money / price * 1000
            expected[e] = (queries, blackbox_study.at_budget(budgets, np.mean(curves[e]["acc"], axis=1), queries))
    best = max(expected, key=lambda e: expected[e][1])
    lines = "; ".join(f"{e}: {q:,.0f} queries -> {100 * a:.1f}%" for e, (q, a) in expected.items())
    tied = [e for e in expected if expected[e][1] >= expected[best][1] - tie]
    if choice in tied:
        others = [e for e in tied if e != choice]
        note = (f" Not separable from {' and '.join(others)} with these seeds (within {100 * tie:g} point"
                f"{'s' if tie != 0.01 else ''} of each other)." if others else "")
        return report(True, f"{choice} buys the best student for {money:g}.{note} {lines}.")
    return report(False, f"{choice} buys {expected[choice][0]:,.0f} queries, and the measured curve says about "
                          f"{100 * expected[choice][1]:.1f}% there; another exposure does better. For each exposure, "
                          f"divide the money by its price to get the queries it buys, then read its accuracy curve at "
                          f"that number of queries (blackbox_study.at_budget does the reading).")


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
