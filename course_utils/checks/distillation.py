"""Checkers of notebooks 02 and 03: the confused pair, calibration, the soft term by hand, structure or softness."""
from __future__ import annotations

import torch

from .. import losses
from ..data import CLASSES
from .common import percentage, report


def most_confused_pair(pair, cm: torch.Tensor, classes=None) -> bool:
    """Exercise 02.1: the two classes with the most mistakes between them, both directions summed."""
    classes = classes or CLASSES
    if pair is None:
        return report(False, "replace None with a tuple of two class names, e.g. ('ship', 'airplane').")
    if len(pair) != 2 or any(p not in classes for p in pair):
        return report(False, f"give two of the class names {list(classes)}, got {pair!r}.")
    off = cm.clone().fill_diagonal_(0)
    sym = off + off.T
    i, j = classes.index(pair[0]), classes.index(pair[1])
    best = int(sym.max())
    bi, bj = divmod(int(sym.argmax()), len(classes))
    if int(sym[i, j]) == best and i != j:
        return report(True, f"{pair[0]} and {pair[1]} are mixed up {best} times (both directions).")
    return report(False, f"{pair[0]} <-> {pair[1]} accounts for {int(sym[i, j])} mistakes, but another pair has "
                          f"{best}. Add the matrix to its transpose and look for the largest off-diagonal cell "
                          f"(hint: it involves {classes[bi]}).")


def calibration(mean_confidence, answer, probs: torch.Tensor, accuracy: float) -> bool:
    """Exercise 02.2: the mean top-1 probability, and whether the model is over- or under-confident."""
    if mean_confidence is None or answer is None:
        return report(False, "fill in mean_confidence (a number) and my_answer ('over', 'under' or 'calibrated').")
    expected = probs.max(1).values.mean().item()
    if percentage(mean_confidence, "the mean confidence"):
        return False
    if abs(float(mean_confidence) - expected) > 1e-3:
        return report(False, f"the mean top-1 probability is not {float(mean_confidence):.4f}. Take, for every "
                              "image, the largest probability (probs.max(1).values), then average over the images. "
                              "Use `probs`, the plain predictions (not the flip-averaged ones).")
    gap = expected - accuracy
    right = "over" if gap > 0.02 else "under" if gap < -0.02 else "calibrated"
    if answer not in ("over", "under", "calibrated"):
        return report(False, f"answer 'over', 'under' or 'calibrated', got {answer!r}.")
    if answer != right:
        return report(False, f"a mean confidence of {expected:.3f} against an accuracy of {accuracy:.3f} is a gap of "
                              f"{100 * gap:+.1f} points, so the answer is {right!r}, not {answer!r}.")
    return report(True, f"confidence {expected:.3f} vs accuracy {accuracy:.3f} ({100 * gap:+.1f} points): {right}.")


def soft_term_by_hand(value) -> bool:
    """Exercise 03.1: T^2 KL(p_t || p_s) at T = 2 for z_s = [2, 1, 0], z_t = [3, 0.5, 0]."""
    if value is None:
        return report(False, "replace None with your number.")
    z_s = torch.tensor([[2.0, 1.0, 0.0]], dtype=torch.float64)
    z_t = torch.tensor([[3.0, 0.5, 0.0]], dtype=torch.float64)
    expected = losses.soft_loss(z_s, z_t, T=2.0).item()
    v = float(value)
    if abs(v - expected) < 1e-4:
        return report(True, f"T^2 KL = {expected:.6f}.")
    kl = expected / 4
    if abs(v - kl) < 1e-4:
        return report(False, f"{v:.6f} is the KL alone: multiply by T^2 = 4.")
    reverse = losses.soft_loss(z_t, z_s, T=2.0).item()  # T^2 KL(p_s || p_t)
    if min(abs(v - reverse), abs(v - reverse / 4)) < 1e-4:
        return report(False, "that is KL(p_s || p_t): the teacher's distribution goes first, "
                              "sum p_t * (log p_t - log p_s).")
    t1 = losses.soft_loss(z_s, z_t, T=1.0).item()
    if abs(v - t1) < 1e-4:
        return report(False, "that is the value at T = 1: divide the logits by T = 2 before the softmax.")
    p_t, log_p_s = torch.softmax(z_t / 2, -1), torch.log_softmax(z_s / 2, -1)
    cross_entropy = -(p_t * log_p_s).sum().item()
    if min(abs(v - 4 * cross_entropy), abs(v - cross_entropy)) < 1e-3:
        return report(False, "that is the cross-entropy -sum p_t log p_s (times T^2), not the KL: the KL subtracts "
                              "the teacher's own entropy, KL = sum p_t (log p_t - log p_s).")
    if abs(v - expected) < 2e-3:
        return report(False, f"{v} is close: give at least 4 decimals (compute in float64 and print with :.6f).")
    return report(False, f"{v:.6f} is not it. Steps: p = exp(z / T) / sum(exp(z / T)) for both; "
                          "KL = sum p_t (log p_t - log p_s); multiply by T^2.")


def structure_or_softness(answer) -> bool:
    """Exercise 03.2: which comparison tells the teacher's class structure from mere softness."""
    if answer is None:
        return report(False, "set my_answer to 'a', 'b', 'c' or 'd'.")
    why = {"a": "hard vs blended measures everything the teacher adds at once: softness, structure and its "
                "knowledge of the top class. It cannot say which of them helped.",
           "c": "label smoothing is a control for softness, but it also drops the teacher's top class and its "
                "confidence per image; it differs from the blended student in more than structure.",
           "d": "a student trained on the teacher's labels alone gets neither softness nor structure."}
    if answer != "b":
        return report(False, why.get(answer, f"answer 'a', 'b', 'c' or 'd', got {answer!r}.") +
                       " Look for two students whose targets differ in one thing only.")
    return report(True, "the shuffled teacher keeps each image's top class and the softness of its targets at "
                         "every T, and only scrambles which wrong classes get the probability: blended minus shuffled "
                         "is the value of the structure alone.")
