"""Exercise checkers: each says what is right, or exactly what is wrong and how to look again.

A checker prints its verdict (so a learner sees it under the cell) and returns True or False
(so a notebook test can assert the reference solution passes).
"""
from __future__ import annotations

import torch


def _report(ok: bool, message: str) -> bool:
    print(("Correct! " if ok else "Not yet: ") + message)
    return ok


def _percentage(value, what: str) -> bool:
    """True (after telling the learner) when `value` looks like a percentage where a share in [0, 1] was asked."""
    if not 1 < float(value) <= 100:
        return False
    _report(False, f"give {what} as a number between 0 and 1, not a percentage "
                   f"({float(value):g}% is {float(value) / 100:g}).")
    return True


def _close(a, b, tol: float = 1e-5) -> bool:
    return torch.allclose(torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64),
                          rtol=tol, atol=tol)


# ----------------------------------------------------------------------------- notebook 01: temperature
# (checkers for notebook 01 go in this section)

def _call(fn, *args):
    """fn(*args) as a float64 tensor, or the error message a learner should see."""
    try:
        out = fn(*args)
    except Exception as err:  # the learner's code failed: show the error, not a traceback
        return None, f"calling your function raised {type(err).__name__}: {err}"
    if out is None:
        return None, "your function returned None: write its body and return the result (a torch.Tensor)."
    if not isinstance(out, torch.Tensor):
        return None, f"your function should return a torch.Tensor, it returned {type(out).__name__}."
    return out.detach().double(), None


def temperature_softmax(fn) -> bool:
    """Exercise 01.1: fn(z, T) must equal softmax(z / T) over the last dimension, also for huge logits."""
    from . import losses
    if fn is None:
        return _report(False, "define my_softmax(z, T) and pass it in.")
    g = torch.Generator().manual_seed(1)
    z = torch.randn(3, 5, generator=g, dtype=torch.float64) * 2  # (B, C)
    for T in (1.0, 0.5, 4.0):
        got, err = _call(fn, z.clone(), T)
        if err:
            return _report(False, err)
        want = losses.softmax_with_temperature(z, T)
        if got.shape != want.shape:
            return _report(False, f"for logits of shape {tuple(z.shape)} the output should have the same shape, "
                                  f"got {tuple(got.shape)}. Keep the dimension when you sum: .sum(dim=-1, keepdim=True).")
        if _close(got, want, 1e-6):
            continue
        if not _close(got.sum(-1), torch.ones(3), 1e-4):
            if _close(got.sum(0), torch.ones(5), 1e-4):
                return _report(False, "your probabilities sum to 1 down each column (dim 0), not along each row: "
                                      "normalise over the classes, the last dimension (dim=-1).")
            return _report(False, f"at T = {T:g} your rows sum to {[round(v, 4) for v in got.sum(-1).tolist()]}, not 1: "
                                  "divide exp(z / T) by its sum over the last dimension.")
        if _close(got, losses.softmax_with_temperature(z, 1.0), 1e-6):
            return _report(False, f"at T = {T:g} you return the ordinary softmax: divide the logits by T before exp.")
        if _close(got, losses.softmax_with_temperature(z * T, 1.0), 1e-6):
            return _report(False, f"at T = {T:g} your result is softmax(z * T): divide by T, don't multiply.")
        return _report(False, f"at T = {T:g} the first row should be {[round(v, 4) for v in want[0].tolist()]}, "
                              f"got {[round(v, 4) for v in got[0].tolist()]}. p_i = exp(z_i / T) / sum_j exp(z_j / T).")
    big = torch.tensor([[1000.0, 999.0, 0.0], [0.0, -1.0, -2.0]], dtype=torch.float64)  # two rows, two scales
    got, err = _call(fn, big.clone(), 1.0)
    if err:
        return _report(False, err)
    want = losses.softmax_with_temperature(big, 1.0)
    if not torch.isfinite(got[0]).all() or not _close(got[0], want[0], 1e-6):
        return _report(False, f"for logits [1000, 999, 0] you return {got[0].tolist()}: exp(1000) overflows. Subtract "
                              "each row's largest logit before exp (z - z.max(dim=-1, keepdim=True).values); "
                              "the shift cancels between numerator and denominator.")
    if not torch.isfinite(got).all() or not _close(got, want, 1e-6):
        return _report(False, f"for the batch [[1000, 999, 0], [0, -1, -2]] your second row is {got[1].tolist()}, "
                              f"expected {[round(v, 4) for v in want[1].tolist()]}: subtract each row's own largest "
                              "logit (z.max(dim=-1, keepdim=True).values), not the largest of the whole batch, whose "
                              "1000 drives every exp of the second row to 0.")
    return _report(True, "softmax(z / T), normalised over the last dimension and stable for huge logits.")


def half_temperature(ratio, entropy_goes) -> bool:
    """Exercise 01.2: at T = 1 the teacher says wolf 0.08, cat 0.001; p(wolf) / p(cat) at T = 0.5, entropy up or down."""
    if ratio is None or entropy_goes is None:
        return _report(False, "fill in my_ratio (a number) and my_entropy ('up' or 'down').")
    r1 = 0.08 / 0.001  # 80 at T = 1
    want = r1 ** 2  # exp((z_w - z_c) / 0.5) = (exp(z_w - z_c))^2
    r = float(ratio)
    if abs(r - want) > 0.01 * want:
        if abs(r - r1 / 2) < 0.5:
            return _report(False, "halving T does not halve the ratio. p(wolf) / p(cat) = exp((z_wolf - z_cat) / T): "
                                  "T = 0.5 doubles the exponent, and doubling an exponent squares the ratio.")
        if abs(r - 2 * r1) < 0.5:
            return _report(False, "the ratio is exp((z_wolf - z_cat) / T): T = 0.5 doubles the exponent, which "
                                  "squares the ratio rather than doubling it.")
        if abs(r - r1) < 0.5:
            return _report(False, "the ratio does change with T: it is exp((z_wolf - z_cat) / T), and "
                                  "z_wolf - z_cat = log 80 at T = 1.")
        if r < 1:
            return _report(False, "temperature never changes the order of the classes: wolf stays more probable than cat.")
        return _report(False, f"{r:g} is not it. At T = 1, p(wolf) / p(cat) = exp(z_wolf - z_cat) = 80. "
                              "What is exp(2 (z_wolf - z_cat))?")
    if entropy_goes not in ("up", "down"):
        return _report(False, f"answer 'up' or 'down' for the entropy, got {entropy_goes!r}.")
    if entropy_goes != "down":
        return _report(False, "the ratio is right, but the entropy goes down: a temperature below 1 sharpens the "
                              "distribution towards the argmax (T -> 0 is one-hot, entropy 0).")
    return _report(True, f"p(wolf) / p(cat) = 80^2 = {want:.0f} at T = 0.5, and the distribution is sharper: "
                         "lower entropy. T < 1 exaggerates every gap; T > 1 shrinks them.")


def soft_gradient(fn) -> bool:
    """Exercise 01.3: fn(s, t, T) = the gradient of losses.soft_loss(s, t, T) w.r.t. s, batch (B, C), by formula."""
    from . import losses
    if fn is None:
        return _report(False, "define my_soft_gradient(s, t, T) and pass it in.")
    g = torch.Generator().manual_seed(2)
    B, C = 3, 5
    s = torch.randn(B, C, generator=g, dtype=torch.float64) * 2
    t = torch.randn(B, C, generator=g, dtype=torch.float64) * 3
    for T in (2.5, 6.0, 1.0):  # T != 1 first, where the usual mistakes differ from the answer
        got, err = _call(fn, s.clone(), t.clone(), T)
        if err:
            return _report(False, err)
        x = s.clone().requires_grad_(True)
        (want,) = torch.autograd.grad(losses.soft_loss(x, t, T), x)  # (B, C)
        if got.shape != want.shape:
            return _report(False, f"the gradient has one entry per student logit, shape {tuple(want.shape)}; "
                                  f"got {tuple(got.shape)}.")
        if _close(got, want, 1e-6):
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
            if _close(got, value, 1e-6):
                return _report(False, f"at T = {T:g}: " + message)
        return _report(False, f"at T = {T:g} the first row should be {[round(v, 4) for v in want[0].tolist()]}, got "
                              f"{[round(v, 4) for v in got[0].tolist()]}. With q = softmax(s / T) and "
                              "p = softmax(t / T), the gradient is T (q - p) / B.")
    return _report(True, "T (q - p) / B, exactly what autograd gets from losses.soft_loss.")


# ----------------------------------------------------------------------------- notebook 02: the teacher

def most_confused_pair(pair, cm: torch.Tensor, classes=None) -> bool:
    """Exercise 02.1: the two classes with the most mistakes between them, both directions summed."""
    from .data import CLASSES
    classes = classes or CLASSES
    if pair is None:
        return _report(False, "replace None with a tuple of two class names, e.g. ('ship', 'airplane').")
    if len(pair) != 2 or any(p not in classes for p in pair):
        return _report(False, f"give two of the class names {list(classes)}, got {pair!r}.")
    off = cm.clone().fill_diagonal_(0)
    sym = off + off.T
    i, j = classes.index(pair[0]), classes.index(pair[1])
    best = int(sym.max())
    bi, bj = divmod(int(sym.argmax()), len(classes))
    if int(sym[i, j]) == best and i != j:
        return _report(True, f"{pair[0]} and {pair[1]} are mixed up {best} times (both directions).")
    return _report(False, f"{pair[0]} <-> {pair[1]} accounts for {int(sym[i, j])} mistakes, but another pair has "
                          f"{best}. Add the matrix to its transpose and look for the largest off-diagonal cell "
                          f"(hint: it involves {classes[bi]}).")


def calibration(mean_confidence, answer, probs: torch.Tensor, accuracy: float) -> bool:
    """Exercise 02.2: the mean top-1 probability, and whether the model is over- or under-confident."""
    if mean_confidence is None or answer is None:
        return _report(False, "fill in mean_confidence (a number) and my_answer ('over', 'under' or 'calibrated').")
    expected = probs.max(1).values.mean().item()
    if _percentage(mean_confidence, "the mean confidence"):
        return False
    if abs(float(mean_confidence) - expected) > 1e-3:
        return _report(False, f"the mean top-1 probability is not {float(mean_confidence):.4f}. Take, for every "
                              "image, the largest probability (probs.max(1).values), then average over the images. "
                              "Use `probs`, the plain predictions (not the flip-averaged ones).")
    gap = expected - accuracy
    right = "over" if gap > 0.02 else "under" if gap < -0.02 else "calibrated"
    if answer not in ("over", "under", "calibrated"):
        return _report(False, f"answer 'over', 'under' or 'calibrated', got {answer!r}.")
    if answer != right:
        return _report(False, f"a mean confidence of {expected:.3f} against an accuracy of {accuracy:.3f} is a gap of "
                              f"{100 * gap:+.1f} points, so the answer is {right!r}, not {answer!r}.")
    return _report(True, f"confidence {expected:.3f} vs accuracy {accuracy:.3f} ({100 * gap:+.1f} points): {right}.")


# ----------------------------------------------------------------------------- notebook 03: distillation
# (checkers for notebook 03 go in this section)

def soft_term_by_hand(value) -> bool:
    """Exercise 03.1: T^2 KL(p_t || p_s) at T = 2 for z_s = [2, 1, 0], z_t = [3, 0.5, 0]."""
    from . import losses
    if value is None:
        return _report(False, "replace None with your number.")
    z_s = torch.tensor([[2.0, 1.0, 0.0]], dtype=torch.float64)
    z_t = torch.tensor([[3.0, 0.5, 0.0]], dtype=torch.float64)
    expected = losses.soft_loss(z_s, z_t, T=2.0).item()
    v = float(value)
    if abs(v - expected) < 1e-4:
        return _report(True, f"T^2 KL = {expected:.6f}.")
    kl = expected / 4
    if abs(v - kl) < 1e-4:
        return _report(False, f"{v:.6f} is the KL alone: multiply by T^2 = 4.")
    reverse = losses.soft_loss(z_t, z_s, T=2.0).item()  # T^2 KL(p_s || p_t)
    if min(abs(v - reverse), abs(v - reverse / 4)) < 1e-4:
        return _report(False, "that is KL(p_s || p_t): the teacher's distribution goes first, "
                              "sum p_t * (log p_t - log p_s).")
    t1 = losses.soft_loss(z_s, z_t, T=1.0).item()
    if abs(v - t1) < 1e-4:
        return _report(False, "that is the value at T = 1: divide the logits by T = 2 before the softmax.")
    p_t, log_p_s = torch.softmax(z_t / 2, -1), torch.log_softmax(z_s / 2, -1)
    cross_entropy = -(p_t * log_p_s).sum().item()
    if min(abs(v - 4 * cross_entropy), abs(v - cross_entropy)) < 1e-3:
        return _report(False, "that is the cross-entropy -sum p_t log p_s (times T^2), not the KL: the KL subtracts "
                              "the teacher's own entropy, KL = sum p_t (log p_t - log p_s).")
    if abs(v - expected) < 2e-3:
        return _report(False, f"{v} is close: give at least 4 decimals (compute in float64 and print with :.6f).")
    return _report(False, f"{v:.6f} is not it. Steps: p = exp(z / T) / sum(exp(z / T)) for both; "
                          "KL = sum p_t (log p_t - log p_s); multiply by T^2.")


def structure_or_softness(answer) -> bool:
    """Exercise 03.2: which comparison tells the teacher's class structure from mere softness."""
    if answer is None:
        return _report(False, "set my_answer to 'a', 'b', 'c' or 'd'.")
    why = {"a": "hard vs blended measures everything the teacher adds at once: softness, structure and its "
                "knowledge of the top class. It cannot say which of them helped.",
           "c": "label smoothing is a control for softness, but it also drops the teacher's top class and its "
                "confidence per image; it differs from the blended student in more than structure.",
           "d": "a student trained on the teacher's labels alone gets neither softness nor structure."}
    if answer != "b":
        return _report(False, why.get(answer, f"answer 'a', 'b', 'c' or 'd', got {answer!r}.") +
                       " Look for two students whose targets differ in one thing only.")
    return _report(True, "the shuffled teacher keeps each image's top class and the softness of its targets at "
                         "every T, and only scrambles which wrong classes get the probability: blended minus shuffled "
                         "is the value of the structure alone.")


# ----------------------------------------------------------------------------- notebook 04: black-box
# (checkers for notebook 04 go in this section)

def buy_exposure(choice, curves: dict, budgets, prices: dict, money: float, tie: float = 0.01) -> bool:
    """Exercise 04.1: with `money` to spend and a price per 1,000 queries for each exposure, which
    exposure buys the most accurate student? curves: {exposure: {"acc": (budgets, seeds)}} as measured.

    tie: exposures whose expected accuracy is within this share (default 0.01: one point) of the best
    are not told apart by a few seeds; any of them is accepted, and the tie is named.
    """
    import numpy as np

    from . import blackbox

    if choice is None:
        return _report(False, f"replace None with one of {sorted(prices)}.")
    if choice not in prices or choice not in curves:
        return _report(False, f"choose one of the exposures on sale, {sorted(set(prices) & set(curves))}; "
                              f"got {choice!r}.")
    expected = {}
    for e, price in prices.items():
        if e in curves:
            queries = money / price * 1000
            expected[e] = (queries, blackbox.at_budget(budgets, np.mean(curves[e]["acc"], axis=1), queries))
    best = max(expected, key=lambda e: expected[e][1])
    lines = "; ".join(f"{e}: {q:,.0f} queries -> {100 * a:.1f}%" for e, (q, a) in expected.items())
    tied = [e for e in expected if expected[e][1] >= expected[best][1] - tie]
    if choice in tied:
        others = [e for e in tied if e != choice]
        note = (f" Not separable from {' and '.join(others)} with these seeds (within {100 * tie:g} point"
                f"{'s' if tie != 0.01 else ''} of each other)." if others else "")
        return _report(True, f"{choice} buys the best student for {money:g}.{note} {lines}.")
    return _report(False, f"{choice} buys {expected[choice][0]:,.0f} queries, and the measured curve says about "
                          f"{100 * expected[choice][1]:.1f}% there; another exposure does better. For each exposure, "
                          f"divide the money by its price to get the queries it buys, then read its accuracy curve at "
                          f"that number of queries (blackbox.at_budget does the reading).")


def topk_to_probs(fn) -> bool:
    """Exercise 04.2: rebuild a full distribution (N, C) from a top-k answer, hidden mass spread evenly."""
    from . import blackbox

    if fn is None:
        return _report(False, "define my_topk_to_probs(answer, num_classes) and pass the function itself.")
    answer = blackbox.TopK(classes=torch.tensor([[3, 5], [0, 9]]), probs=torch.tensor([[0.6, 0.3], [0.98, 0.01]]))
    expected = blackbox.to_targets(answer, "top_k", num_classes=10)
    try:
        got = fn(answer, 10)
    except Exception as err:  # the learner's code: report, don't crash the notebook
        return _report(False, f"your function raised {type(err).__name__}: {err}")
    if not isinstance(got, torch.Tensor) or tuple(got.shape) != (2, 10):
        shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
        return _report(False, f"return a tensor shaped (N, num_classes) = (2, 10), got {shape}.")
    got = got.double()
    if not _close(got.sum(1), torch.ones(2), 1e-4):
        return _report(False, f"each row must sum to 1 (a probability distribution), yours sum to {got.sum(1).tolist()}.")
    if not _close(got[0, 3], 0.6, 1e-4) or not _close(got[0, 5], 0.3, 1e-4):
        return _report(False, "the shown classes must keep their probabilities: row 0 should have 0.6 at class 3 and "
                              f"0.3 at class 5, yours has {got[0, 3]:.3f} and {got[0, 5]:.3f}. Use scatter_ or "
                              "index assignment with answer.classes.")
    if not _close(got, expected, 1e-4):
        return _report(False, "the hidden classes are off: the 8 hidden classes of row 0 should share the missing "
                              f"0.1 evenly (0.0125 each), yours hold {got[0, 0]:.4f} at class 0.")
    return _report(True, "the shown probabilities stay, the missing mass is shared evenly by the hidden classes; "
                         "this is blackbox.to_targets(answer, 'top_k').")


def same_mistake_rate(value, student_pred: torch.Tensor, teacher_pred: torch.Tensor, labels: torch.Tensor) -> bool:
    """Exercise 04.3: among the test images the teacher gets wrong, the share where the student gives
    the very same wrong answer."""
    from . import blackbox

    if value is None:
        return _report(False, "replace None with a number between 0 and 1.")
    expected = blackbox.copied_errors(student_pred, teacher_pred, labels)
    if _percentage(value, "the share"):
        return False
    if abs(float(value) - expected["same_mistake"]) < 1e-4:
        return _report(True, f"on the {expected['n']} images the teacher gets wrong, the student repeats the teacher's "
                             f"exact mistake {expected['same_mistake']:.1%} of the time.")
    wrong_share = (teacher_pred.cpu() != labels.cpu()).float().mean().item()
    if abs(float(value) - (1 - wrong_share)) < 1e-4 or abs(float(value) - wrong_share) < 1e-4:
        return _report(False, "that is the teacher's accuracy (or error rate), not the student's copying. Keep only "
                              "the images where teacher_pred != labels, then compare student_pred with teacher_pred there.")
    return _report(False, f"{float(value):.4f} is not it. Mask = teacher_pred != labels; then the mean of "
                          "(student_pred[mask] == teacher_pred[mask]).")
