"""Checkers of notebook 06: the per-word loss by hand, what an identity quirk can and cannot show, a wider top-k
(predict, then run), and the quiz."""
from __future__ import annotations

import numbers

import torch

from .. import corpus, lm, lm_study, stats
from .common import call, close, multiple_choice, report


def _shown(value) -> str:
    """repr(value), cut to 60 characters (a learner's answer quoted back)."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:40]}... ({len(text):,d} characters)"


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


def wider_top_k(prediction, k=None, teacher=None, study=None, device="cpu") -> bool:
    """Exercise 06.3: predict whether the top-k student ends "closer" to the truth, "further" from it, or the
    "same" (not told apart over 3 seeds) when the API shows k words instead of the study's; then run it."""
    options = ("closer", "further", "same")
    if prediction not in options:
        return report(False, f"first write your prediction: one of {list(options)}, as a string; got "
                              f"{_shown(prediction)}.")
    if teacher is None or study is None:
        return report(False, "pass the teacher's model and the study: wider_top_k(my_prediction, my_k, "
                              "teacher.model, study, device).")
    whole = isinstance(k, numbers.Integral) and not isinstance(k, bool)
    if not whole or not 1 <= k <= len(corpus.VOCAB) or k == study.top_k:
        return report(False, f"set my_k to a whole number other than the study's top_k = {study.top_k} (try 6, "
                              f"one per animal), got {_shown(k)}.")
    effect = lm_study.compare_top_k(teacher, study, k, device)
    d = effect.difference
    measured = "closer" if d["hi"] < 0 else "further" if d["lo"] > 0 else "same"
    outcome = {"closer": "ends closer to the truth", "further": "ends further from the truth",
               "same": f"is not told apart from the top-{effect.base_k} student"}[measured]
    result = (f"top-{k} minus top-{effect.base_k} KL to the truth: "
              f"{stats.format_interval(d, unit='nats/word', scale=1.0, digits=4)} over {d['n']} seeds "
              f"({effect.steps} steps each): the top-{k} student {outcome} (\"{measured}\").")
    why = (" Where a story picks one of six animals, a top-5 answer hides one, and the copier spreads its share over "
           f"the {len(corpus.VOCAB) - effect.base_k} words not shown, most of them impossible there; with six shown, "
           "none is hidden.")
    return report(prediction == measured, result + why)


QUIZ = {  # question: (right letter, why it is right, {wrong letter: why not})
    1: ("a", "the white-box student also gets the teacher's distribution on the copier's own question words, which "
             "no API answer covers; the written-only student gets it only where the API wrote.",
        {"b": "every student takes the same steps on the same batches of a seed.",
         "c": "the white-box and written-only students read exactly the same bought text.",
         "d": "the teacher is the same model everywhere; only where its distribution is given changes."}),
    2: ("b", "a 95% t interval comes from a method that covers the true difference in 95% of the experiments it is "
             "used on; this one interval either covers it or not.",
        {"a": "the true difference is fixed, not random: the 95% belongs to the method, not to this interval "
              "(that reading needs a Bayesian model).",
         "c": "the interval is about the mean difference, not where single seeds fall (seeds spread wider).",
         "d": "an interval that includes zero says these seeds cannot tell, not that the difference is zero."}),
    3: ("c", "to put a weak skill on text you need a student that did not learn from text alone (the white-box one) "
             "on the same text, and the skill on questions the text held against questions it did not.",
        {"a": "a copy below its teacher may be limited by its size, data or steps, whatever it learned from.",
         "b": "more seeds of the copy alone measure it more precisely, not why it falls short.",
         "d": "style says nothing about the arithmetic the student can do."}),
    4: ("b", "top-k log-probabilities with a logit bias let Carlini et al. (2024) and Finlayson et al. (2024) "
             "recover production models' hidden sizes and (up to a symmetry) final layers: far more than their "
             "answers.",
        {"a": "the probabilities of the shown words say how sure the model was: a distribution, not one word.",
         "c": "the studies used ordinary paid API access, no weights.",
         "d": "they extracted parts of the model itself (hidden size, the last layer), not only its training text."}),
}


def lm_quiz(answers) -> bool:
    """Notebook 06's quiz: a dict {question number: letter} for questions 1 to 4."""
    if not isinstance(answers, dict) or set(answers) != set(QUIZ):
        return report(False, f"give a dict with one letter per question: {{1: 'a', 2: ..., 4: ...}}; got "
                              f"{_shown(answers)}.")
    verdicts = [multiple_choice(answers[q], right, praise, why) for q, (right, praise, why) in QUIZ.items()]
    return all(verdicts)
