"""Checkers of notebooks 02 and 03: the confused pair, calibration, the soft term by hand, structure or softness,
the soft term broken on purpose, and 03's quiz."""
from __future__ import annotations

import torch

from .. import losses
from ..data import CLASSES
from .common import call, percentage, quiz, report


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


def _soft_term_gradient(loss_fn, T: float) -> torch.Tensor:
    """d loss / d student logits on a fixed batch of 64 logit rows, in float64 (the norm of that gradient)."""
    g = torch.Generator().manual_seed(3)
    z_s, z_t = torch.randn(64, 10, generator=g, dtype=torch.float64), 4 * torch.randn(64, 10, generator=g, dtype=torch.float64)
    z_s.requires_grad_(True)
    loss = loss_fn(z_s, z_t, T)
    if not isinstance(loss, torch.Tensor) or loss.ndim != 0:
        raise TypeError(f"return the batch mean, a tensor with one number; got {type(loss).__name__} "
                        f"{tuple(loss.shape) if isinstance(loss, torch.Tensor) else ''}")
    loss.backward()
    return z_s.grad.norm()


def _same(values, reference) -> bool:
    return all(abs(v - r) < 1e-9 * max(1.0, r) for v, r in zip(values, reference))


def _reverse_kl(z_s: torch.Tensor, z_t: torch.Tensor, T: float) -> torch.Tensor:
    """KL(p_s || p_t) at temperature T, batch mean: the soft term with its arguments swapped (and no T^2)."""
    log_p_s, log_p_t = torch.log_softmax(z_s / T, -1), torch.log_softmax(z_t / T, -1)
    return (log_p_s.exp() * (log_p_s - log_p_t)).sum(-1).mean()


def broken_soft_term(fn, ratio) -> bool:
    """Exercise 03.2: the soft term without T^2, its gradient beside the course's at T = 1, 2, 4, 8, and the
    predicted ratio of the two at T = 8."""
    temps = (1.0, 2.0, 4.0, 8.0)
    _, err = call(lambda z_s, z_t: fn(z_s, z_t, 2.0), torch.randn(2, 10, dtype=torch.float64),
                  torch.randn(2, 10, dtype=torch.float64))
    if err:
        return report(False, err)
    try:
        course = [_soft_term_gradient(losses.soft_loss, T).item() for T in temps]
        yours = [_soft_term_gradient(fn, T).item() for T in temps]
    except Exception as e:  # the learner's code failed inside autograd
        return report(False, f"computing your loss's gradient raised {type(e).__name__}: {e}")
    print(f"{'T':>4s} {'|gradient|, course (T^2 KL)':>29s} {'|gradient|, yours':>18s} {'course / yours':>15s}")
    for T, c, y in zip(temps, course, yours):
        print(f"{T:4g} {c:29.5f} {y:18.5f} {c / y if y else float('inf'):15.2f}")
    expected = [c / T**2 for c, T in zip(course, temps)]
    swapped = [_soft_term_gradient(_reverse_kl, T).item() for T in temps]  # KL(p_s || p_t), without T^2
    if _same(yours, expected):
        if ratio is None:
            return report(False, "your loss is the soft term without T^2. Now set my_ratio to your prediction for T = 8.")
        if not isinstance(ratio, (int, float)):
            return report(False, f"my_ratio is a number (how many times smaller), got {ratio!r}.")
        if abs(float(ratio) - 64) < 3:
            return report(True, "without T^2 the gradient shrinks like 1/T^2: 64 times at T = 8. In the blended loss the "
                                 "soft term would then fade next to the hard term as T grows: T^2 puts it back.")
        return report(False, f"the printed ratio at T = 8 is {course[-1] / yours[-1]:.1f}, not {float(ratio):g}. "
                              "The KL's gradient is (p_s - p_t) / T, and at high T the difference itself shrinks like 1/T.")
    if _same(yours, swapped) or _same(yours, [T**2 * w for T, w in zip(temps, swapped)]):
        return report(False, "that is KL(p_s || p_t), the direction swapped: its gradient differs at every T, and it asks "
                              "the student to avoid the teacher's unlikely classes rather than cover the teacher. For this "
                              "exercise keep KL(p_t || p_s) and drop the T^2 factor.")
    if _same(yours, course):
        return report(False, "this is still the course's loss, T^2 included: remove the T**2 factor and run again.")
    return report(False, "your loss's gradient is neither the soft term's nor the soft term's without T^2. Write "
                          "sum p_t (log p_t - log p_s) at temperature T, averaged over the batch, with no T**2.")


def quiz_03(answers: dict) -> bool:
    """Notebook 03's quiz: {question number: letter}; each answer is checked, and all must be right."""
    questions = {
        1: ("b", "the teacher is frozen: no gradient may reach it, and in eval mode its BatchNorm uses the statistics "
                 "it learned, not the batch's.",
            {"a": "memory is a side benefit; without eval mode the teacher's BatchNorm would use each batch's "
                  "statistics, and its answers would drift with the batch.",
             "c": "the teacher never learns here: only the student's optimiser steps."}),
        2: ("b", "a 95% interval comes from a method that covers the true mean difference in 95% of experiments run "
                 "this way; this one interval either covers it or not.",
            {"a": "that is the common misreading: the true difference is fixed, and probability belongs to the method "
                  "that made the interval.",
             "c": "the interval is about the mean difference, not where single seeds fall: the dots spread wider."}),
        3: ("c", "the teacher trained on every training image, so its soft labels there could carry what it memorised; "
                 "validation images come from the test split, which no model trains on, and never measure the result.",
            {"a": "the training split is the largest one.",
             "b": "the test images that measure are kept apart from the validation images: each is used once."}),
        5: ("a", "label smoothing is as soft as the teacher's answers at the same T and loss: only the shape of the "
                 "target differs, the teacher's per image and per class against one shape for every image.",
            {"b": "both students use the same T^2 KL at the same T (each at its own chosen learning rate).",
             "c": "the label-smoothing student learns from the same labelled images."}),
    }
    questions[4] = structure_or_softness  # which comparison isolates the class structure
    return quiz(answers, dict(sorted(questions.items())))
