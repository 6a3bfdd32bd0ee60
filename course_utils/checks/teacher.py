"""Checkers of notebooks 00 and 02: the course's set-up, and the teacher (its confidence at a temperature, the quizzes)."""
from __future__ import annotations

import torch

from .. import losses
from .common import number, quiz, report, shown

VERDICTS = ("over", "under", "calibrated")


def confidence_at_T(prediction, confidence, logits, labels, T: float = 2.0) -> bool:
    """Exercise 02.3: the teacher's mean top-1 probability at temperature T against its accuracy ('over',
    'under' or 'calibrated', within 2 points), and that mean itself."""
    if prediction not in VERDICTS:
        return report(False, f"write your prediction first: one of {list(VERDICTS)}, got {shown(prediction)}.")
    got = number(confidence, "confidence")
    if got is None:
        return False
    probs = losses.softmax_with_temperature(torch.as_tensor(logits).double(), T)
    want = probs.max(1).values.mean().item()
    acc = (probs.argmax(1).cpu() == torch.as_tensor(labels).cpu()).double().mean().item()
    if abs(got - want) > 1e-3:
        return report(False, f"at T = {T:g} the mean top-1 probability is {want:.3f}, you passed {got:.3f}: "
                             f"losses.softmax_with_temperature(logits, {T:g}).max(1).values.mean().")
    gap = want - acc
    truth = "over" if gap > 0.02 else "under" if gap < -0.02 else "calibrated"
    reading = (f"at T = {T:g} the teacher's mean confidence is {want:.3f} against an accuracy of {acc:.3f} "
               f"({100 * gap:+.1f} points): {truth}. Dividing the logits by T > 1 lowers every top probability but "
               "changes no answer, so a well-calibrated teacher becomes under-confident. Distillation's T is not a "
               "calibration tool: it is there to make the small probabilities count.")
    return report(prediction == truth, reading if prediction == truth else f"you predicted {prediction!r}; {reading}")


def quiz_00(answers) -> bool:
    """Notebook 00's quiz: {question number: letter} for its three questions."""
    return quiz(answers, {
        1: ("a", "without a CUDA GPU the course runs the quick profile: small subsets, a few epochs, the shipped "
                 "teacher.",
            {"b": "full needs a CUDA GPU: the whole data set and the real recipe.",
             "c": "demo is chosen by hand, for a live presentation."}),
        2: ("b", "demo replays a recorded quick run, in seconds, and every replayed cell says so.",
            {"a": "that is the full profile.",
             "c": "demo skips no cell: it replays the long ones' recorded values and says which."}),
        3: ("b", "the JPEG re-encoding loses detail: every accuracy on it sits about 3 points under the canonical set.",
            {"a": "a lossy re-encoding costs the models a few points.",
             "c": "JPEG removes detail; it cannot help."}),
    })


def quiz_02(answers) -> bool:
    """Notebook 02's quiz: {question number: letter} for its four questions."""
    return quiz(answers, {
        1: ("b", "its filters are computed from the training images before training (they decorrelate pixel "
                 "patches); only its bias learns, in the first epochs.",
            {"a": "its filters never train: they are set from the data once.",
             "c": "it keeps the colours; it decorrelates the values of small patches."}),
        2: ("a", "row cat, column dog: the share of cat test images the teacher called dog.",
            {"b": "the matrix counts top choices only; the gallery shows the probabilities.",
             "c": "that is row dog, column cat, and the matrix holds shares of each row, not counts."}),
        3: ("b", "its probabilities for the wrong classes say which classes look alike: what a student can learn "
                 "beyond the label.",
            {"a": "they cost the same to compute: one forward pass either way.",
             "c": "a teacher can be over- or under-confident; exercise 2 measures it."}),
        4: ("b", "a teacher needs 18 passes over 50,000 images: seconds on a GPU, hours on a laptop's CPU.",
            {"a": "a CPU trains the same network, only far more slowly: you just watched it.",
             "c": "the short run on a CPU is far weaker than the shipped teacher."}),
    })
