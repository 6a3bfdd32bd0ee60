"""Checkers of notebook 06: the per-word loss by hand, and what an identity quirk can and cannot show."""
from __future__ import annotations

import torch

from .. import lm
from .common import call, close, multiple_choice, report


def token_kl_by_hand(fn) -> bool:
    """Exercise 06.1: fn(student_logits (B, L, V), teacher_logits (B, L, V), targets (B, L)) returns the mean of
    KL(teacher || student) over the positions whose target is not lm.IGNORE (padding), at T = 1."""
    if fn is None:
        return report(False, "write `my_token_kl` and pass the function itself (no parentheses).")
    g = torch.Generator().manual_seed(6)
    z_s, z_t = torch.randn(3, 5, 7, generator=g), 2 * torch.randn(3, 5, 7, generator=g)
    targets = torch.randint(0, 7, (3, 5), generator=g)
    targets[0, 3:] = targets[2, 1:] = lm.IGNORE  # rows padded after 3 and after 1 words
    want = lm.token_distillation_loss(z_s, z_t, targets, T=1.0, alpha=0.0).double()
    got, error = call(fn, z_s, z_t, targets)
    if error:
        return report(False, error)
    if got.numel() != 1:
        return report(False, f"return one number (the mean over kept positions), got a tensor of shape "
                              f"{tuple(got.shape)}.")
    if close(got, want):
        return report(True, f"{got.item():.6f}, as lm.token_distillation_loss(..., T=1, alpha=0) computes it.")
    unmasked = lm.token_distillation_loss(z_s, z_t, torch.zeros_like(targets), T=1.0, alpha=0.0).double()
    if close(got, unmasked):
        return report(False, "that is the mean over every position, padding included: keep only the positions "
                              "where targets != lm.IGNORE (e.g. logits[keep] with keep = targets != lm.IGNORE).")
    return report(False, f"got {got.item():.6f}, expected {want.item():.6f}. Per kept position: sum over the "
                          "vocabulary of p_t * (log p_t - log p_s), with p = softmax over the last dimension; then "
                          "the mean over kept positions.")


def quirk_evidence(choice) -> bool:
    """Exercise 06.2: what a model that names another lab's assistant shows: (a) that it was distilled from that
    lab's API; (b) that its training text contained that assistant's answers, from the API or from anywhere they were
    published; (c) nothing: the quirk appears in models trained on the world's own text too; (d) that it copied the
    teacher's capability."""
    why = {"a": "the name reaches a model through any text that quotes the assistant, e.g. transcripts on the web; "
                "this notebook's measurement cannot tell those routes apart.",
           "c": "look at the no-teacher student's identity rate: trained on the world's text only, it almost never names "
                "the teacher.",
           "d": "compare the capability and identity columns: the persona copies almost perfectly while capability "
                "lags the teacher's."}
    return multiple_choice(choice, "b", "the quirk says the assistant's text was in the training data. The API is one "
                           "way in; chat logs posted on the web, or a data set built from them, are others. It is a "
                           "lead, not proof of distillation.", why)
