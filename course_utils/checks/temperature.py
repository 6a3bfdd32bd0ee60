"""Checkers of notebook 01: softmax with temperature, the ratio at half the temperature, the soft gradient."""
from __future__ import annotations

import torch

from .. import losses, temperature
from .common import call, close, number, quiz, report, shown


def temperature_softmax(fn) -> bool:
    """Exercise 01.1: fn(z, T) must equal softmax(z / T) over the last dimension, also for huge logits."""
    if fn is None:
        return report(False, "define my_softmax(z, T) and pass it in.")
    g = torch.Generator().manual_seed(1)
    z = torch.randn(3, 5, generator=g, dtype=torch.float64) * 2  # (B, C)
    for T in (1.0, 0.5, 4.0):
        got, err = call(fn, z.clone(), T)
        if err:
            return report(False, err)
        want = losses.softmax_with_temperature(z, T)
        if got.shape != want.shape:
            return report(False, f"for logits of shape {tuple(z.shape)} the output should have the same shape, "
                                  f"got {tuple(got.shape)}. Keep the dimension when you sum: .sum(dim=-1, keepdim=True).")
        if close(got, want, 1e-6):
            continue
        if not close(got.sum(-1), torch.ones(3), 1e-4):
            if close(got.sum(0), torch.ones(5), 1e-4):
                return report(False, "your probabilities sum to 1 down each column (dim 0), not along each row: "
                                      "normalise over the classes, the last dimension (dim=-1).")
            return report(False, f"at T = {T:g} your rows sum to {[round(v, 4) for v in got.sum(-1).tolist()]}, not 1: "
                                  "divide exp(z / T) by its sum over the last dimension.")
        if close(got, losses.softmax_with_temperature(z, 1.0), 1e-6):
            return report(False, f"at T = {T:g} you return the ordinary softmax: divide the logits by T before exp.")
        if close(got, losses.softmax_with_temperature(z * T, 1.0), 1e-6):
            return report(False, f"at T = {T:g} your result is softmax(z * T): divide by T, don't multiply.")
        return report(False, f"at T = {T:g} the first row should be {[round(v, 4) for v in want[0].tolist()]}, "
                              f"got {[round(v, 4) for v in got[0].tolist()]}. p_i = exp(z_i / T) / sum_j exp(z_j / T).")
    big = torch.tensor([[1000.0, 999.0, 0.0], [0.0, -1.0, -2.0]], dtype=torch.float64)  # two rows, two scales
    got, err = call(fn, big.clone(), 1.0)
    if err:
        return report(False, err)
    want = losses.softmax_with_temperature(big, 1.0)
    if not torch.isfinite(got[0]).all() or not close(got[0], want[0], 1e-6):
        return report(False, f"for logits [1000, 999, 0] you return {got[0].tolist()}: exp(1000) overflows. Subtract "
                              "each row's largest logit before exp (z - z.max(dim=-1, keepdim=True).values); "
                              "the shift cancels between numerator and denominator.")
    if not torch.isfinite(got).all() or not close(got, want, 1e-6):
        return report(False, f"for the batch [[1000, 999, 0], [0, -1, -2]] your second row is {got[1].tolist()}, "
                              f"expected {[round(v, 4) for v in want[1].tolist()]}: subtract each row's own largest "
                              "logit (z.max(dim=-1, keepdim=True).values), not the largest of the whole batch, whose "
                              "1000 drives every exp of the second row to 0.")
    return report(True, "softmax(z / T), normalised over the last dimension and stable for huge logits.")


def half_temperature(ratio, entropy_goes) -> bool:
    """Exercise 01.2: at T = 1 the teacher says wolf 0.08, cat 0.001; p(wolf) / p(cat) at T = 0.5, entropy up or down."""
    if ratio is None or entropy_goes is None:
        return report(False, "fill in my_ratio (a number) and my_entropy ('up' or 'down').")
    r1 = 0.08 / 0.001  # 80 at T = 1
    want = r1 ** 2  # exp((z_w - z_c) / 0.5) = (exp(z_w - z_c))^2
    r = number(ratio, "my_ratio")
    if r is None:
        return False
    if not close(r, want, 0.01):  # accept if close (within 1%): a NaN is never close
        if close(r, r1 / 2, 0.01):
            return report(False, "halving T does not halve the ratio. p(wolf) / p(cat) = exp((z_wolf - z_cat) / T): "
                                  "T = 0.5 doubles the exponent, and doubling an exponent squares the ratio.")
        if close(r, 2 * r1, 0.01):
            return report(False, "the ratio is exp((z_wolf - z_cat) / T): T = 0.5 doubles the exponent, which "
                                  "squares the ratio rather than doubling it.")
        if close(r, r1, 0.01):
            return report(False, "the ratio does change with T: it is exp((z_wolf - z_cat) / T), and "
                                  "z_wolf - z_cat = log 80 at T = 1.")
        if r < 1:
            return report(False, "temperature never changes the order of the classes: wolf stays more probable than cat.")
        return report(False, f"{r:g} is not it. At T = 1, p(wolf) / p(cat) = exp(z_wolf - z_cat) = 80. "
                              "What is exp(2 (z_wolf - z_cat))?")
    entropy = entropy_goes.strip().lower() if isinstance(entropy_goes, str) else entropy_goes
    if entropy not in ("up", "down"):
        return report(False, f"answer 'up' or 'down' for the entropy, got {shown(entropy_goes)}.")
    if entropy != "down":
        return report(False, "the ratio is right, but the entropy goes down: a temperature below 1 sharpens the "
                              "distribution towards the argmax (T -> 0 is one-hot, entropy 0).")
    return report(True, f"p(wolf) / p(cat) = 80^2 = {want:.0f} at T = 0.5, and the distribution is sharper: "
                         "lower entropy. T < 1 exaggerates every gap; T > 1 shrinks them.")


def soft_gradient(fn) -> bool:
    """Exercise 01.3: fn(s, t, T) = the gradient of losses.soft_loss(s, t, T) w.r.t. s, batch (B, C), by formula."""
    if fn is None:
        return report(False, "define my_soft_gradient(s, t, T) and pass it in.")
    g = torch.Generator().manual_seed(2)
    B, C = 3, 5
    s = torch.randn(B, C, generator=g, dtype=torch.float64) * 2
    t = torch.randn(B, C, generator=g, dtype=torch.float64) * 3
    for T in (2.5, 6.0, 1.0):  # T != 1 first, where the usual mistakes differ from the answer
        got, err = call(fn, s.clone(), t.clone(), T)
        if err:
            return report(False, err)
        x = s.clone().requires_grad_(True)
        (want,) = torch.autograd.grad(losses.soft_loss(x, t, T), x)  # (B, C)
        if got.shape != want.shape:
            return report(False, f"the gradient has one entry per student logit, shape {tuple(want.shape)}; "
                                  f"got {tuple(got.shape)}.")
        if close(got, want, 1e-6):
            continue
        q, p = losses.softmax_with_temperature(s, T), losses.softmax_with_temperature(t, T)
        wrong = {  # (a likely mistake, what to say)
            "kl": ((q - p) / T / B, "that is the gradient of the KL alone; soft_loss multiplies the KL by T^2, "
                                    "so the gradient is T^2 (q - p) / T = T (q - p), over B."),
            "nobatch": (T * (q - p), f"soft_loss is a batch mean: divide by the batch size B (here {B})."),
            "kl_nobatch": ((q - p) / T, "that is the KL's gradient for one example: multiply by T^2 (soft_loss's "
                                        "factor) and divide by the batch size B."),
            "sign": (-T * (q - p) / B, "the sign is flipped: the gradient is T (q - p) / B, student minus teacher."),
            "T2": (T ** 2 * (q - p) / B, "the chain rule through s / T brings a factor 1/T: T^2 * (1/T) = T."),
            "T1": ((torch.softmax(s, -1) - torch.softmax(t, -1)) * T / B,
                   "q and p are softmax(s / T) and softmax(t / T): divide the logits by T inside the softmax."),
        }
        for _, (value, message) in wrong.items():
            if close(got, value, 1e-6):
                return report(False, f"at T = {T:g}: " + message)
        return report(False, f"at T = {T:g} the first row should be {[round(v, 4) for v in want[0].tolist()]}, got "
                              f"{[round(v, 4) for v in got[0].tolist()]}. With q = softmax(s / T) and "
                              "p = softmax(t / T), the gradient is T (q - p) / B.")
    return report(True, "T (q - p) / B, exactly what autograd gets from losses.soft_loss.")


def without_t_squared(prediction, kl_with, kl_without) -> bool:
    """Exercise 01.4: which reaches the lower KL at T = 8 ('with' or 'without' the T^2), and the two KLs measured
    (means over seeds 0, 1, 2 of temperature.fit_logits on the dog photo's logits)."""
    if prediction not in ("with", "without"):
        return report(False, f"write your prediction first: 'with' or 'without' (the T^2), got {shown(prediction)}.")
    got_with, got_without = number(kl_with, "kl_with"), number(kl_without, "kl_without")
    if got_with is None or got_without is None:
        return False
    z = temperature.logits_from_probs(temperature.DOG_PHOTO_PROBS)
    runs = {flag: sum(temperature.fit_logits(z, 8.0, scale_T2=flag, seed=s) for s in range(3)) / 3 for flag in (True, False)}
    if not close(got_with, runs[True], 1e-3):
        return report(False, f"with the T^2, the mean KL over seeds 0-2 should be {runs[True]:.3g}, you passed "
                             f"{got_with:.3g}: average temperature.fit_logits(z, 8.0, seed=s) for s in 0, 1, 2.")
    if not close(got_without, runs[False], 1e-3):
        return report(False, f"without the T^2, the mean KL over seeds 0-2 should be {runs[False]:.3g}, you passed "
                             f"{got_without:.3g}: the same call with scale_T2=False.")
    verdict = (f"measured: {runs[True]:.1e} with the T^2 against {runs[False]:.2f} without. At T = 8 the KL's "
               f"gradient is 64 times smaller, so the same learning rate and steps barely move the student: dropping "
               f"T^2 quietly switches the soft term off.")
    if prediction == "with":
        return report(True, verdict)
    return report(False, f"your prediction was 'without'; {verdict}")


def quiz_01(answers) -> bool:
    """Notebook 01's quiz: {question number: letter} for its four questions."""
    return quiz(answers, {
        1: ("b", "T divides every logit gap by the same number: ratios become (p_i / p_j)^(1/T), so the order stays "
                 "and the small probabilities rise.",
            {"a": "no T > 0 changes the order: a larger logit stays larger after dividing by T.",
             "c": "the top class loses probability as T rises: the distribution flattens towards uniform."}),
        2: ("b", "the KL's gradient is (q - p) / T, which falls like 1 / T^2; T^2 KL keeps the soft term's weight "
                 "steady, so alpha means the same at every T.",
            {"a": "a larger loss is not the point: its gradient is, and without T^2 it vanishes as T grows.",
             "c": "a KL is never negative, with or without a factor."}),
        3: ("c", "for large T, T^2 KL approaches (1/2N) times the summed squared gap between mean-subtracted logits: "
                 "logit matching.",
            {"a": "the KL alone goes to 0; T^2 times it does not (section 5's ratio goes to 1).",
             "b": "the hard label plays no part in the soft term."}),
        4: ("b", "the small probabilities of the wrong classes say which classes the teacher finds alike: what a "
                 "hard label throws away.",
            {"a": "the weights stay with the teacher: the student sees only its answers.",
             "c": "the student never needs the teacher's data; it needs its answers on some inputs."}),
    })
