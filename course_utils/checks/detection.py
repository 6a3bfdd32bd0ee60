"""Checkers of notebook 05: Cohen's kappa from a right/wrong table, what evidence supports an allegation, the probe budget."""
from __future__ import annotations

from .common import close, multiple_choice, report


def kappa_from_counts(fn) -> bool:
    """Exercise 05.1: fn(both_right, teacher_only, suspect_only, both_wrong), the four cells of the right/wrong
    table of two models on N images, returns Cohen's kappa (a float)."""
    if fn is None:
        return report(False, "write `my_kappa` and pass the function itself (no parentheses).")
    for table in ((60, 10, 5, 25), (40, 30, 20, 10), (5, 45, 45, 5)):
        a, b, c, d = table
        n = a + b + c + d
        observed, p_t, p_s = (a + d) / n, (a + b) / n, (a + c) / n
        chance = p_t * p_s + (1 - p_t) * (1 - p_s)
        want = (observed - chance) / (1 - chance)
        try:
            got = fn(*table)
            if got is None:
                return report(False, "your function returned None: write its body and return kappa (one number).")
            got = float(got)
        except Exception as err:  # the learner's code: report, don't crash the notebook
            return report(False, f"calling your function raised {type(err).__name__}: {err}")
        if close(got, observed, 1e-4) and not close(want, observed, 1e-4):
            return report(False, f"for the table {table} you returned {got:.4f}, the observed agreement (a + d) / N. "
                                  "Subtract the chance agreement p_t p_s + (1 - p_t)(1 - p_s), where p_t = (a + b) / N "
                                  "and p_s = (a + c) / N, and divide by 1 - chance.")
        if not close(got, want, 1e-4):
            return report(False, f"for the table {table} (both right, teacher only, suspect only, both wrong) you "
                                  f"returned {got:.4f}, expected {want:.4f}. Steps: N = a + b + c + d; observed = "
                                  "(a + d) / N; p_t = (a + b) / N; p_s = (a + c) / N; chance = p_t p_s + (1 - p_t)(1 - p_s); "
                                  "kappa = (observed - chance) / (1 - chance).")
    return report(True, "your kappa matches on three tables, including one where the two models err on opposite "
                        "images (kappa below zero).")


def strongest_evidence(choice) -> bool:
    """Exercise 05.2: which observation, alone, best supports "this model was distilled from ours"? (a) it agrees with
    our teacher on 62% of test images, our own models at most 58%; (b) it repeats 18% of our watermark's wrong answers
    over 139 logged queries, our own models at most 6%; (c) its kappa with our teacher is 0.12, our own models' at most
    0.11; (d) its accuracy is within one point of our teacher's."""
    why = {"a": "a few points above our own models, on one set of images: good models agree anyway, and a model a "
                "little better than ours agrees more. The margin is small against how much models vary.",
           "c": "0.12 against 0.11 is within the noise of kappa on a few hundred images (the teacher errs on few), "
                "and similar training makes innocent models share hard images' mistakes too.",
           "d": "an independent model of the same size trained on the same data reaches a similar accuracy; "
                "accuracy says nothing about where the answers came from."}
    return multiple_choice(choice, "b", "a keyed wrong answer has no reason to appear in a model that never saw our "
                           "answers, and the margin over our own models is three times their level on over a hundred "
                           "queries. It still shows only that the suspect learned from our API's answers, not who "
                           "trained it.", why)


def probe_budget(choice, curve: dict, target: float) -> bool:
    """Exercise 05.3: the smallest number of watermark probes, among those measured (curve: {n: auc}), whose AUC
    reaches `target`."""
    reaching = sorted(n for n, a in curve.items() if a >= target)
    if not reaching:  # possible in a weak run: then the right answer is None
        if choice is None:
            return report(True, f"no measured budget reaches AUC {target:g} in this run ({curve}).")
        return report(False, f"no measured budget reaches AUC {target:g} in this run ({curve}); answer None.")
    if choice not in curve:
        return report(False, f"choose one of the measured budgets {sorted(curve)}; got {choice!r}.")
    if choice == reaching[0]:
        return report(True, f"{choice} probes reach AUC {curve[choice]:.2f} (target {target:g}). Fewer queries per "
                            "suspect means a cheaper check, and a copier less likely to notice it is being tested. "
                            "But with very few probes the result rests on which queries came first, and with few "
                            "suspects the p-value cannot go below its floor: a lab would keep a margin.")
    if curve[choice] < target:
        return report(False, f"with {choice} probes the AUC is {curve[choice]:.2f}, below {target:g}.")
    return report(False, f"{choice} probes reach it, but a smaller measured budget does too: look left on the curve.")
