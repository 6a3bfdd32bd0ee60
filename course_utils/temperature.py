"""Soft labels and temperature, the maths of notebook 01: softened distributions, the gradients
that explain the T^2 factor, the high-temperature limit, and a teacher's dark knowledge per class; the
notebook's parameters per profile, and the real teacher's answers on CIFAR-10 test images."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from . import checkpoints, config, data, train
from .losses import entropy, soft_loss, softmax_with_temperature

ANIMALS = ("dog", "wolf", "fox", "cat", "car")  # the classes of notebook 01's toy examples
DOG_PHOTO_PROBS = (0.9, 0.08, 0.0186, 0.001, 0.0004)  # a teacher's answer for a dog photo (sums to 1)


@dataclass
class Lesson:
    test_per_class: int  # CIFAR-10 test images per class shown to the real teacher (section 6)
    gallery_Ts: tuple = (1, 4, 10)  # temperatures of the real teacher's gallery
    grad_Ts: tuple = (1, 2, 4, 8, 16, 32)  # temperatures of the gradient table (section 4)
    limit_Ts: tuple = (1, 2, 5, 10, 20, 50, 100)  # temperatures of the high-T limit (section 5)
    seed: int = 0  # which test images the subset holds


LESSONS = {
    "quick": Lesson(test_per_class=30),  # CPU: 300 images, about half a second of teacher inference
    "full": Lesson(test_per_class=1000),  # all 10,000 test images: a GPU answers in a blink
}


def lesson(profile: str) -> Lesson:
    """Notebook 01's parameters for a profile (the demo profile uses the quick one's)."""
    name = config.study_profile(profile)
    if name not in LESSONS:
        raise ValueError(f"no notebook 01 parameters for the profile {profile!r}: expected one of "
                         f"{sorted(LESSONS)} or 'demo' (set COURSE_PROFILE).")
    return LESSONS[name]


def logits_from_probs(probs) -> torch.Tensor:
    """Mean-subtracted logits whose softmax (T = 1) is `probs`: z_i = log p_i - mean_j log p_j (float64)."""
    p = torch.as_tensor(probs, dtype=torch.float64)
    if p.ndim != 1 or (p <= 0).any() or abs(p.sum().item() - 1) > 1e-6:
        raise ValueError(f"probs must be a 1-D list of positive probabilities summing to 1, got {p.tolist()}.")
    z = p.log()
    return z - z.mean()


TEMPERATURE_PRESETS = {  # name -> logits over ANIMALS, for the temperature explorer's picker
    "a dog photo (confident teacher)": tuple(round(v, 2) for v in logits_from_probs(DOG_PHOTO_PROBS).tolist()),
    "dog or cat? (a hesitant teacher)": (2.0, -0.5, -1.0, 1.8, -3.0),
    "a car photo (very confident)": (-1.0, -2.0, -2.5, -1.5, 7.0),
    "a tie between dog and wolf": (2.0, 2.0, 0.0, -1.0, -3.0),
    "all logits equal": (0.0, 0.0, 0.0, 0.0, 0.0),
}


def as_logits(logits) -> torch.Tensor:
    """Logits as a 1-D float64 tensor (one number per class), checked."""
    z = torch.as_tensor(logits, dtype=torch.float64)
    if z.ndim != 1 or len(z) < 2:
        raise ValueError(f"logits must be a 1-D list of at least 2 numbers (one per class), got shape {tuple(z.shape)}.")
    return z


def soft_labels(logits, Ts) -> torch.Tensor:
    """softmax(z / T) for each T in Ts: shape (len(Ts), N), float64."""
    z = as_logits(logits)
    return torch.stack([softmax_with_temperature(z, float(T)) for T in Ts])


SOFTMAX_COLUMNS = {"T": "T", **{c: (c, ".3f") for c in ANIMALS}, "entropy": ("entropy", ".3f"),
                   "wolf/cat": ("wolf/cat", ".2f")}  # show.table columns for softmax_rows of the animals


def softmax_rows(logits, Ts, classes=ANIMALS, ratio=("wolf", "cat")) -> list[dict]:
    """Per T: softmax(z / T) per class (losses.softmax_with_temperature, as in training), its entropy (nats) and
    the ratio of two classes' probabilities, keyed "wolf/cat"; rows for show.table (SOFTMAX_COLUMNS)."""
    z = as_logits(logits)
    if len(classes) != len(z):
        raise ValueError(f"softmax_rows needs one class name per logit: {len(z)} logits, {len(classes)} names.")
    i, j = classes.index(ratio[0]), classes.index(ratio[1])
    rows = []
    for T in Ts:
        p = softmax_with_temperature(z, T)  # (N,)
        rows.append({"T": T, **dict(zip(classes, p.tolist())), "entropy": entropy(p).item(),
                     f"{ratio[0]}/{ratio[1]}": (p[i] / p[j]).item()})
    return rows


def softmax_limits(logits, tie=(2.0, 2.0, 0.0, -1.0, -3.0), cold: float = 0.01, hot: float = 1e4) -> list[dict]:
    """Checks softmax with temperature's limits and invariants on `logits` (and on `tie`, two equal maxima):
    T -> 0 the argmax, T -> infinity uniform, p_i(T) / p_j(T) = (p_i(1) / p_j(1))^(1/T), the order kept.
    Raises ValueError naming the property that failed; returns one row per property for show.table."""
    z = as_logits(logits)
    tied = as_logits(tie)
    n, top = len(z), torch.zeros(len(z), dtype=torch.float64)
    top[z.argmax()] = 1.0
    share = (tied == tied.max()).double() / (tied == tied.max()).sum()
    p1 = softmax_with_temperature(z, 1.0)
    holds = {
        "T -> 0 gives the argmax": torch.allclose(softmax_with_temperature(z, cold), top),
        "tied maxima share equally": torch.allclose(softmax_with_temperature(tied, cold), share),
        "T -> infinity gives the uniform distribution":
            torch.allclose(softmax_with_temperature(z, hot), torch.full((n,), 1 / n, dtype=torch.float64), atol=1e-3),
        "ratios follow (p_i / p_j)^(1/T)": True,
        "the order never changes": True,
    }
    for T in (0.5, 1.0, 2.0, 5.0):
        p = softmax_with_temperature(z, T)
        rule = (p1[:, None] / p1[None, :]) ** (1 / T)  # (N, N) the ratios at T = 1, to the power 1/T
        holds["ratios follow (p_i / p_j)^(1/T)"] &= bool(((p[:, None] / p[None, :] - rule).abs() <= 1e-9 * rule).all())
        holds["the order never changes"] &= p.argsort().tolist() == z.argsort().tolist()
    failed = [name for name, ok in holds.items() if not ok]
    if failed:
        raise ValueError(f"softmax with temperature broke {failed} on logits {z.tolist()} (tie {tied.tolist()}, "
                         f"T = {cold} and {hot}): check losses.softmax_with_temperature.")
    return [{"property": name, "holds": "yes"} for name in holds]


def temperature_summary(logits, T: float) -> dict:
    """What the explorer reports at temperature T: probabilities, entropy (nats), p(2nd)/p(3rd), argmax."""
    z = as_logits(logits)
    p = soft_labels(z, [T])[0]  # (N,)
    ranked = p.sort(descending=True).values
    return {"T": float(T), "probs": p.tolist(), "entropy": entropy(p).item(), "max_entropy": float(np.log(len(p))),
            "ratio_2_3": (ranked[1] / ranked[2]).item() if len(p) > 2 else float("nan"),
            "argmax": int(p.argmax())}


def temperature_gradients(student_logits, teacher_logits, Ts, atol: float = 1e-12) -> dict:
    r"""Gradient norms w.r.t. the student logits, by autograd (float64), and the formulas they must match.

    With p = softmax(t / T), q = softmax(s / T): d KL(p || q) / d s_i = (q_i - p_i) / T, so the gradient of
    T^2 KL (= losses.soft_loss, a batch mean) is T (q - p) / B. Returns numpy arrays over Ts:
    kl (norm of grad KL), soft (norm of grad T^2 KL), max_error (largest |autograd - formula|), and the
    float limit: the norm of (s~ - t~) / (N B), which soft approaches for large T (s~, t~ mean-subtracted).
    Raises ArithmeticError if autograd and a formula differ by more than atol at some T.
    """
    s0 = torch.as_tensor(student_logits, dtype=torch.float64)
    t = torch.as_tensor(teacher_logits, dtype=torch.float64)
    if s0.ndim == 1:
        s0, t = s0[None], t[None]
    B = len(s0)
    out = {"T": [], "kl": [], "soft": [], "max_error": []}
    for T in Ts:
        T = float(T)
        s = s0.clone().requires_grad_(True)
        (g_soft,) = torch.autograd.grad(soft_loss(s, t, T), s)  # (B, C), grad of T^2 KL, batch mean
        s = s0.clone().requires_grad_(True)
        (g_kl,) = torch.autograd.grad(soft_loss(s, t, T) / T ** 2, s)  # grad of KL alone
        q, p = softmax_with_temperature(s0, T), softmax_with_temperature(t, T)
        err = max((g_kl - (q - p) / T / B).abs().max().item(), (g_soft - T * (q - p) / B).abs().max().item())
        out["T"].append(T)
        out["kl"].append(g_kl.norm().item())
        out["soft"].append(g_soft.norm().item())
        out["max_error"].append(err)
    out = {k: np.array(v) for k, v in out.items()}
    if not out["max_error"].max() <= atol:
        worst = int(out["max_error"].argmax())
        raise ArithmeticError(f"autograd of losses.soft_loss differs from (q - p) / T or T (q - p) by "
                              f"{out['max_error'][worst]:.1e} at T = {out['T'][worst]:g} (expected at most {atol:g}): "
                              f"check losses.soft_loss and losses.softmax_with_temperature.")
    N = s0.shape[-1]
    d = (s0 - s0.mean(-1, keepdim=True)) - (t - t.mean(-1, keepdim=True))  # (B, N) centred logit gap
    out["limit"] = d.norm().item() / (N * B)  # T (q - p) / B -> (s~ - t~) / (N B) as T grows
    return out


GRADIENT_COLUMNS = {"T": ("T", ".0f"), "|grad KL|": ("kl", ".5f"), "shrink": ("shrink", ".2f"),
                    "|grad T^2 KL|": ("soft", ".4f")}  # show.table columns for gradient_rows


def gradient_rows(grads: dict) -> list[dict]:
    """temperature_gradients' arrays as one row per T for show.table (GRADIENT_COLUMNS), with `shrink`: how many
    times smaller |grad KL| is than at the previous T (None in the first row)."""
    kl = grads["kl"]
    return [{"T": T, "kl": kl[i], "shrink": kl[i - 1] / kl[i] if i else None, "soft": grads["soft"][i]}
            for i, T in enumerate(grads["T"])]


def hard_gradient_norm(student_logits, label: int) -> float:
    """Norm of the gradient of CE(s, y) w.r.t. the student logits: |softmax(s) - onehot(y)| (independent of T)."""
    s = torch.as_tensor(student_logits, dtype=torch.float64)
    g = torch.softmax(s, -1)
    g[label] -= 1
    return g.norm().item()


def high_temperature_limit(student_logits, teacher_logits, Ts) -> dict:
    r"""T^2 KL(p || q) against (1 / 2N) sum_i (s~_i - t~_i)^2 (s~, t~: mean-subtracted logits), over Ts.

    Returns numpy arrays T, soft (T^2 KL, batch mean), mse (the logit-matching value, batch mean), ratio.
    """
    s = torch.as_tensor(student_logits, dtype=torch.float64)
    t = torch.as_tensor(teacher_logits, dtype=torch.float64)
    if s.ndim == 1:
        s, t = s[None], t[None]
    N = s.shape[-1]
    d = (s - s.mean(-1, keepdim=True)) - (t - t.mean(-1, keepdim=True))  # (B, N) centred logit gap
    mse = ((d ** 2).sum(-1) / (2 * N)).mean().item()
    soft = np.array([soft_loss(s, t, float(T)).item() for T in Ts])
    return {"T": np.array([float(T) for T in Ts]), "soft": soft, "mse": np.full(len(soft), mse), "ratio": soft / mse}


LIMIT_COLUMNS = {"T": ("T", ".0f"), "T^2 KL": ("soft", ".4f"), "ratio": ("ratio", ".4f")}  # for limit_rows


def limit_rows(limit: dict) -> list[dict]:
    """high_temperature_limit's arrays as one row per T for show.table (LIMIT_COLUMNS): T, T^2 KL, its ratio to
    the logit-matching value."""
    return [{"T": T, "soft": soft, "ratio": ratio} for T, soft, ratio in zip(limit["T"], limit["soft"], limit["ratio"])]


def hesitant_examples(probs: torch.Tensor, labels: torch.Tensor, per_class: int = 1) -> torch.Tensor:
    """Per class, the correctly answered images whose runner-up class gets the most probability."""
    probs, labels = probs.cpu(), labels.cpu()
    top2 = probs.topk(2, dim=1).values[:, 1]  # (N,) the runner-up's probability
    correct = probs.argmax(1) == labels
    picks = []
    for c in range(probs.shape[1]):
        idx = torch.nonzero(correct & (labels == c)).flatten()
        picks.append(idx[top2[idx].argsort(descending=True)[:per_class]])
    return torch.cat(picks)


def typical_examples(probs: torch.Tensor, labels: torch.Tensor, top1: float = 0.9, per_class: int = 1) -> torch.Tensor:
    """Per class, the correctly answered images whose top-1 probability is closest to `top1`."""
    probs, labels = probs.cpu(), labels.cpu()
    conf = probs.max(1).values  # (N,)
    correct = probs.argmax(1) == labels
    picks = []
    for c in range(probs.shape[1]):
        idx = torch.nonzero(correct & (labels == c)).flatten()
        picks.append(idx[(conf[idx] - top1).abs().argsort()[:per_class]])
    return torch.cat(picks)


def picker_choices(probs: torch.Tensor, labels: torch.Tensor) -> list[int]:
    """Two images per class for the teacher explorer's picker: a hesitant one, then a typical one (top-1 near 0.9)."""
    hesitant, typical = hesitant_examples(probs, labels), typical_examples(probs, labels, top1=0.9)
    return torch.stack([hesitant, typical], 1).flatten().tolist()  # class by class: hesitant, typical


def true_class_reading(logits: torch.Tensor, labels: torch.Tensor, T: float) -> str:
    """What the true class keeps at temperature T on these images: the range of its probability, beside uniform.
    Raises ValueError if the true class no longer leads on some image (the gallery's caption says it does)."""
    p = softmax_with_temperature(logits, float(T))  # (n, C)
    lost = (p.argmax(1) != labels).nonzero().flatten().tolist()
    if lost:
        raise ValueError(f"at T = {T:g} the true class no longer leads on images {lost} of {len(labels)}: "
                         f"pick images the teacher gets right (typical_examples) or a lower T.")
    true = p[torch.arange(len(labels)), labels]
    return (f"at T = {T:g} the true class gets {true.min().item():.2f}-{true.max().item():.2f} "
            f"(uniform: {1 / p.shape[1]:.2f})")


def class_similarity(probs: torch.Tensor, labels: torch.Tensor, num_classes: int = 10) -> torch.Tensor:
    """Mean soft label per true class, shape (C, C): row i averages the teacher's probabilities on class i."""
    probs, labels = probs.cpu().double(), labels.cpu()
    return torch.stack([probs[labels == c].mean(0) for c in range(num_classes)])


SIMILAR_COLUMNS = {"class": "class", "resembles most": "resembles most",
                   "mean probability": ("mean probability", ".3f")}  # show.table columns for most_similar


def most_similar(sim: torch.Tensor, classes=data.CLASSES) -> list[dict]:
    """Per true class, the other class the teacher gives the most probability on its images (the largest
    off-diagonal entry of class_similarity's row); rows for show.table (SIMILAR_COLUMNS)."""
    if sim.shape != (len(classes), len(classes)):
        raise ValueError(f"sim must be (C, C) with one class name per row, got {tuple(sim.shape)} "
                         f"and {len(classes)} names.")
    off = sim.clone().fill_diagonal_(0)
    return [{"class": name, "resembles most": classes[int(off[c].argmax())], "mean probability": off[c].max().item()}
            for c, name in enumerate(classes)]


# ----------------------------------------------------------------------------- a real teacher on CIFAR-10

@dataclass
class TeacherAnswers:
    """The course's CIFAR-10 teacher on a balanced subset of the test images, on the CPU."""
    logits: torch.Tensor  # (N, 10) float64, the teacher's logits
    images: torch.Tensor  # (N, 3, 32, 32) uint8
    labels: torch.Tensor  # (N,) int64
    probs: torch.Tensor  # (N, 10) float64, softmax at T = 1
    acc: float  # the share of the N images it gets right
    source: str  # which copy of CIFAR-10 the images came from
    meta: dict  # the teacher checkpoint's provenance (profile, device, test_acc, data)


def accuracy_noise(acc: float, n: int, full_acc: float | None = None) -> dict:
    """How noisy an accuracy measured on n images is: its standard error sqrt(p(1-p)/n); and, given the full test
    set's accuracy p0, that standard error sqrt(p0(1-p0)/n) ('se_full'), how many of them `acc` lies from p0 and how rarely a draw of n
    images lands at least that far off, either way (normal approximation: once in 1 / erfc(|z| / sqrt 2))."""
    if not (0 <= acc <= 1 and n >= 1):
        raise ValueError(f"acc must be a share in [0, 1] measured on n >= 1 images, got acc={acc!r}, n={n!r}.")
    out = {"se": (acc * (1 - acc) / n) ** 0.5, "se_full": None, "z": None, "once_in": None}
    if full_acc is not None:
        se_full = (full_acc * (1 - full_acc) / n) ** 0.5  # an n-image accuracy's standard error if full_acc is true
        z = (acc - full_acc) / se_full
        out.update(se_full=se_full, z=z, once_in=1 / math.erfc(abs(z) / 2 ** 0.5))
    return out


def teacher_soft_labels(lesson: Lesson, device, profile: str, min_acc: float = 0.8) -> TeacherAnswers:
    """The course's teacher (checkpoints.load_teacher) on lesson.test_per_class CIFAR-10 test images per class.

    Prints where the teacher comes from, its accuracy here with the standard error of n images, and how far this
    draw lies from its accuracy on the full test set. Raises RuntimeError below min_acc (a wrong checkpoint)."""
    cifar = data.load_cifar10(device).subset(train_per_class=None, test_per_class=lesson.test_per_class,
                                              seed=lesson.seed)
    teacher, meta = checkpoints.load_teacher(device, verbose=False)  # this function prints its own line
    trained_on = str(meta.get("device", "?"))
    trained_on = "a GPU" if any(k in trained_on.lower() for k in ("cuda", "nvidia")) else trained_on
    print(f"teacher trained in the {meta.get('profile', '?')} profile on {trained_on}: "
          f"{meta.get('test_acc', float('nan')):.1%} on all 10,000 test images of the {meta.get('data', '?')} "
          f"(this run: {profile} profile)")
    logits = train.predict(teacher, cifar.test_images).cpu().double()  # (N, 10)
    images, labels = cifar.test_images.cpu(), cifar.test_labels.cpu()
    probs = softmax_with_temperature(logits, 1.0)
    acc = (probs.argmax(1) == labels).double().mean().item()
    n = len(images)
    p0 = meta.get("test_acc") if n < 10_000 else None  # same teacher, fewer images: how unusual is this draw?
    noise = accuracy_noise(acc, n, p0)
    print(f"here: {n} test images ({cifar.source}); the teacher gets {acc:.1%} of them right "
          f"(standard error sqrt(p(1-p)/N) = {noise['se']:.1%}, 95% interval +-{1.96 * noise['se']:.1%})")
    if p0 is not None:
        print(f"{100 * (acc - p0):+.1f} points against all 10,000 = {noise['z']:+.1f} standard errors of the accuracy "
              f"of {n} images at the full set's {p0:.1%} (sqrt(p0(1-p0)/N) = {noise['se_full']:.1%}):\nthe luck of which {n} images "
              f"were drawn (a draw this far off happens about once in {noise['once_in']:.0f})")
    if not acc > min_acc:
        raise RuntimeError(f"the teacher gets only {acc:.1%} of {n} test images right (expected above {min_acc:.0%}): "
                           f"is it the course's trained teacher? Delete a broken checkpoint saved by notebook 02, "
                           f"or run notebook 02 again.")
    return TeacherAnswers(logits, images, labels, probs, acc, cifar.source, meta)



def fit_logits(teacher_logits, T: float, steps: int = 100, lr: float = 0.5, scale_T2: bool = True,
               seed: int = 0) -> float:
    """Train free student logits, from a random start (seed), to match the teacher at temperature T by plain
    gradient descent on the soft loss (T^2 KL, or the KL alone with scale_T2=False); the KL(p || q) reached."""
    t = as_logits(teacher_logits)[None]  # (1, N)
    s = torch.randn(t.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).requires_grad_(True)
    for _ in range(steps):
        loss = soft_loss(s, t, T) if scale_T2 else soft_loss(s, t, T) / T ** 2  # T^2 KL, or the KL alone
        grad, = torch.autograd.grad(loss, s)
        with torch.no_grad():
            s -= lr * grad
    with torch.no_grad():
        return (soft_loss(s, t, T) / T ** 2).item()
