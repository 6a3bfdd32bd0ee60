"""Checkers of notebook 07: the reverse KL by hand, the KL direction predicted then run, and the end-of-notebook quiz."""
from __future__ import annotations

import torch

from .. import lm, onpolicy_study
from .common import call, close, number, percentage, quiz, report


def reverse_kl_by_hand(fn) -> bool:
    """Exercise 07.1: fn(student_logits (B, L, V), teacher_logits (B, L, V), targets (B, L)) returns the mean of
    KL(student || teacher) over the positions whose target is not lm.IGNORE."""
    if fn is None:
        return report(False, "write `my_reverse_kl` and pass the function itself (no parentheses).")
    g = torch.Generator().manual_seed(7)
    z_s, z_t = torch.randn(3, 5, 7, generator=g), 2 * torch.randn(3, 5, 7, generator=g)
    targets = torch.randint(0, 7, (3, 5), generator=g)
    targets[0, 3:] = targets[2, 1:] = lm.IGNORE
    want = lm.token_reverse_kl(z_s, z_t, targets).double()
    got, error = call(fn, z_s, z_t, targets)
    if error:
        return report(False, error)
    if got.numel() != 1:
        return report(False, f"return one number (the mean over kept positions), got shape {tuple(got.shape)}.")
    if not torch.isfinite(got).all():
        return report(False, f"your function returned {got.item()}: take log-probabilities with log_softmax "
                              "rather than the log of probabilities that can round to 0.")
    if close(got, want):
        return report(True, f"{got.item():.6f}, as lm.token_reverse_kl computes it.")
    if close(got, lm.token_distillation_loss(z_s, z_t, targets)):
        return report(False, "that is the forward KL(teacher || student): weigh by the student's probabilities, "
                              "sum of p_s * (log p_s - log p_t).")
    if close(got, lm.token_reverse_kl(z_s, z_t, torch.zeros_like(targets))):
        return report(False, "that is the mean over every position, padding included: keep targets != lm.IGNORE.")
    return report(False, f"got {got.item():.6f}, expected {want.item():.6f}. Per kept position: sum over the "
                          "vocabulary of p_s * (log p_s - log p_t); then the mean over kept positions.")


def kl_direction(prediction, seeds=(0, 1, 2)) -> bool:
    """Exercise 07.2: fitted to the two-peaked teacher with the reverse KL, does the one-bump student sit on "one peak"
    or cover "both peaks"? The checker fits it from three seeds (a second or two) and compares."""
    options = ("one peak", "both peaks")
    if prediction not in options:
        return report(False, f"write your prediction first: one of {options}, as a string; got {prediction!r}.")
    fits = [onpolicy_study.fit_bump("reverse", s) for s in seeds]
    peaks = [max(q) for q in fits]
    measured = "one peak" if all(p > 0.5 for p in peaks) else "both peaks" if all(p < 0.3 for p in peaks) else None
    shown = ", ".join(f"{p:.2f}" for p in peaks)
    if measured is None:
        return report(False, f"the seeds disagree (largest probability per seed: {shown}); run again with more seeds.")
    if prediction == measured:
        return report(True, f"with the reverse KL every seed put most of its mass on one peak (largest probability "
                            f"per seed: {shown}): a word the teacher finds unlikely costs the student a lot wherever it "
                            "puts mass, so it stays where the teacher is sure. The forward KL's bump spreads over both.")
    return report(False, f"the fits say {measured} (largest probability per seed: {shown}). The reverse KL weighs "
                          "each word by the student's own probability: it pays for mass the teacher finds unlikely, "
                          "and nothing for a peak it leaves out.")


def derail_rate(value, results: list, student: str = "off_policy") -> bool:
    """Quiz 07.4: the seed mean of a student's derail rate in this run's table (a share between 0 and 1)."""
    what = f"the {student.replace('_', '-')} student's derail rate"
    want = [r.derail_rate for r in results if r.student == student]
    if not want:
        return report(False, f"the results passed hold no {student!r} student: pass the table's results.")
    if percentage(value, what):
        return False
    x, mean = number(value, what), sum(want) / len(want)
    if abs(x - mean) <= 0.005:
        return report(True, f"{mean:.3f}: the {student.replace('_', '-')} student's own dialogues leave the world "
                            f"{mean:.1%} of the time, averaged over {len(want)} seeds.")
    return report(False, f"got {x:g}; read the derail_rate column of the {student.replace('_', '-')} row (the mean "
                          "over seeds, to 3 decimals).")


def quiz_07(answers, results: list) -> bool:
    """Notebook 07's quiz: {question number: letter, or for question 4 a number}; `results` is the run's table."""
    return quiz(answers, {
        1: ("c", "the student writes, and the teacher scores every word the student wrote: an API must take the "
                 "student's text and return the teacher's distribution at each word.",
            {"a": "text is a sample of the teacher's own answers: the off-policy, sequence-level kind of notebook 06.",
             "b": "those are the teacher's probabilities on its own words; on-policy needs them on the student's.",
             "d": "the student's text says what the student would write; the teacher must say what it would write "
                  "there."}),
        2: ("b", "after a slip the prefix is not the world's, so the world has no next-word distribution: only the "
                 "teacher still has an opinion there.",
            {"a": "up to its first impossible word the student's own text is text the world could write: the "
                  "grammar gives the truth there.",
             "c": "a spread distribution is still a known distribution: KL to it is defined.",
             "d": "once a text has a word the world never writes, no continuation of it is the world's."}),
        3: ("b", "the reverse KL weighs by the student: mass where the teacher is unlikely costs much, a mode left out "
                 "costs nothing (MiniLLM's argument).",
            {"a": "the forward KL weighs by the teacher: a word the teacher likes that the student misses costs a lot, "
                  "so the student spreads to cover every mode.",
             "c": "they differ in whose probabilities weigh the log-ratio; the bump of section 4 and exercise 2 show it.",
             "d": "with a student that can match the teacher both reach it; with a limited one they part ways."}),
        4: lambda value: derail_rate(value, results),
    })
