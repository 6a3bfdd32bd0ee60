"""Exercise checkers: each says what is right, or exactly what is wrong and how to look again.

A checker prints its verdict (so a learner sees it under the cell) and returns True or False (so a notebook
test can assert the reference solution passes). One submodule per part of the course, all reachable as
`checks.<name>`.
"""
from .blackbox import blackbox_quiz, buy_exposure, predicted_direction, same_mistake_rate, topk_to_probs
from .detection import kappa_from_counts, probe_budget, strongest_evidence
from .distillation import calibration, most_confused_pair, soft_term_by_hand, structure_or_softness
from .language_model import quirk_evidence, token_kl_by_hand
from .temperature import half_temperature, soft_gradient, temperature_softmax

__all__ = ["blackbox_quiz", "buy_exposure", "predicted_direction", "same_mistake_rate", "topk_to_probs", "calibration", "most_confused_pair",
           "soft_term_by_hand", "structure_or_softness", "half_temperature", "soft_gradient", "temperature_softmax",
           "quirk_evidence", "token_kl_by_hand", "kappa_from_counts", "probe_budget", "strongest_evidence"]
