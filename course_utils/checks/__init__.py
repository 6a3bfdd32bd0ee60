"""Exercise checkers: each says what is right, or exactly what is wrong and how to look again.

A checker prints its verdict (so a learner sees it under the cell) and returns True or False (so a notebook
test can assert the reference solution passes). One submodule per part of the course, all reachable as
`checks.<name>`; each is `common.guarded`: whatever answer it is given, the learner reads one line, never a
traceback. Importing this package installs session's NameError hint, so an exercise cell that imports its checker
says "run the set-up cells first" when run after a kernel restart.
"""
from .. import session
from . import common
from .blackbox import buy_exposure, predicted_direction, quiz_04, quiz_04b, same_mistake_rate, topk_to_probs
from .detection import detection_quiz, fewer_marks, kappa_from_counts, strongest_evidence
from .distillation import (broken_soft_term, calibration, most_confused_pair, quiz_03, soft_term_by_hand,
                           structure_or_softness)
from .language_model import lm_quiz, quirk_evidence, token_kl_by_hand, wider_top_k
from .on_policy import derail_rate, kl_direction, quiz_07, reverse_kl_by_hand
from .teacher import confidence_at_T, quiz_00, quiz_02
from .temperature import half_temperature, quiz_01, soft_gradient, temperature_softmax, without_t_squared

__all__ = ["quiz_04", "quiz_04b", "predicted_direction", "buy_exposure", "same_mistake_rate", "topk_to_probs",
           "calibration", "most_confused_pair", "soft_term_by_hand", "structure_or_softness", "broken_soft_term",
           "quiz_03", "half_temperature", "soft_gradient", "temperature_softmax", "without_t_squared", "quiz_01",
           "confidence_at_T", "quiz_00", "quiz_02", "quirk_evidence", "token_kl_by_hand", "wider_top_k",
           "lm_quiz", "kappa_from_counts", "fewer_marks", "detection_quiz", "strongest_evidence", "derail_rate",
           "kl_direction", "quiz_07", "reverse_kl_by_hand"]

for _name in __all__:  # a checker never answers with a traceback (common.guarded)
    globals()[_name] = common.guarded(globals()[_name])
del _name
session.install_guard()
