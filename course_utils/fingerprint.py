r"""Fingerprints: does a suspect model behave like a copy of our teacher? (notebook 05)

The lab can only query the suspect. Every probe is a set of *marked* images, each with the answer a copy of
the teacher would give there and an independent model has little reason to give; a suspect's score is the
share of marks it repeats (matches(), transfer()).

    probe                      marked images, and the mark                                 source
    copied mistakes            test images the teacher gets wrong: its wrong answer        Geirhos et al. 2020 (kappa)
    pgd(...)                   images moved to fool the teacher: its adversarial answer    Papernot et al. 2016
    watermark(...)             queries the API answered wrongly on purpose: that answer    DAWN, Szyller et al. 2021

Two questions, two tools:
- one suspect ("is *this* model a copy?"): match_p() tests its repeats against the rate of the lab's own
  innocent reference models, as DAWN decides per suspect;
- a designed panel of known copies and independent models ("does the probe tell them apart?"): auc(), roc()
  and permutation_p(), whose smallest possible value is p_floor().
threshold() is the simplest decision rule (above every reference); threshold_fpr() is what it costs.
error_kappa() and kappa_ceiling() say why raw shared mistakes are a weak signal between models of unequal accuracy.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from . import data, server


def _finite(values, what: str) -> list[float]:
    """`values` as a list of finite floats; a NaN or inf gets an error, never a silent answer."""
    out = [float(v) for v in values]
    bad = [i for i, v in enumerate(out) if not math.isfinite(v)]
    if bad:
        raise ValueError(f"{what} must be finite numbers, but position(s) {bad} hold {[out[i] for i in bad]}. A NaN "
                         "score usually means a probe with no marked images; fix the score before comparing it.")
    return out


# -- kappa: shared mistakes beyond chance -------------------------------------------------------------------------

def error_kappa(teacher_pred: torch.Tensor, suspect_pred: torch.Tensor, labels: torch.Tensor) -> float:
    """Cohen's kappa of two right/wrong patterns: (observed agreement - chance agreement) / (1 - chance).

    Chance agreement is what two models with these accuracies would reach if their mistakes fell on
    independent images: p_t p_s + (1 - p_t)(1 - p_s). 0 = no more shared mistakes than chance; 1 = the same
    images right and wrong."""
    if not teacher_pred.shape == suspect_pred.shape == labels.shape or teacher_pred.ndim != 1 or len(labels) == 0:
        raise ValueError(f"expected three label vectors (N,) of the same, non-zero length, got shapes "
                         f"{tuple(teacher_pred.shape)}, {tuple(suspect_pred.shape)} and {tuple(labels.shape)}. "
                         "Pass predicted classes (logits.argmax(1)), not logits.")
    t_right, s_right = teacher_pred == labels, suspect_pred == labels  # (N,) bool each
    observed = (t_right == s_right).float().mean().item()
    p_t, p_s = t_right.float().mean().item(), s_right.float().mean().item()
    chance = p_t * p_s + (1 - p_t) * (1 - p_s)
    if chance >= 1:  # both always right (or always wrong): no pattern to compare
        return 0.0
    return (observed - chance) / (1 - chance)


def kappa_ceiling(p_t: float, p_s: float) -> float:
    """The largest kappa two models of accuracies p_t and p_s can reach: they can agree on right/wrong on at most
    1 - |p_t - p_s| of the images (the better one is right on the rest). At 89% against 50% it is about 0.2."""
    p_t, p_s = _finite([p_t, p_s], "the two accuracies")
    if not (0 <= p_t <= 1 and 0 <= p_s <= 1):
        raise ValueError(f"accuracies are shares between 0 and 1, got {p_t} and {p_s}.")
    chance = p_t * p_s + (1 - p_t) * (1 - p_s)
    return 0.0 if chance >= 1 else (1 - abs(p_t - p_s) - chance) / (1 - chance)


# -- the marks: adversarial examples and the watermark's log ------------------------------------------------------

def pgd(model: nn.Module, images: torch.Tensor, eps: float = 8 / 255, steps: int = 10, step: float = 2 / 255,
        batch_size: int = 500) -> torch.Tensor:
    """Untargeted adversarial images (PGD, Madry et al. 2018, without the random start): each uint8 image
    (N, 3, 32, 32) moved by at most `eps` per pixel (in [0, 1] units) to raise the model's loss on its own
    prediction. Returns uint8. Notebook 05 shows the same loop on a few images."""
    if images.dtype != torch.uint8 or images.ndim != 4:
        raise ValueError(f"pgd expects uint8 images shaped (N, 3, H, W), got {images.dtype} {tuple(images.shape)}.")
    device = next(model.parameters()).device
    mean = torch.tensor(data.MEAN, device=device).view(1, 3, 1, 1)
    std = torch.tensor(data.STD, device=device).view(1, 3, 1, 1)
    model.eval()
    out = []
    for i in range(0, len(images), batch_size):
        x0 = images[i:i + batch_size].to(device).float() / 255  # (B, 3, H, W) in [0, 1]
        with torch.no_grad():
            target = model((x0 - mean) / std).argmax(1)  # the model's own answer, which the attack pushes away from
        x = x0.clone()
        for _ in range(steps):
            x.requires_grad_(True)
            loss = nn.functional.cross_entropy(model((x - mean) / std).float(), target)
            grad, = torch.autograd.grad(loss, x)
            x = torch.min(torch.max(x.detach() + step * grad.sign(), x0 - eps), x0 + eps).clamp(0, 1)
        out.append((x * 255).round().to(torch.uint8))
    return torch.cat(out)


def watermark(teacher_logits: torch.Tensor, images: torch.Tensor, share: float, secret: int) -> tuple:
    """Which of these queries a TeacherAPI(perturb=share, secret=secret) answered wrongly on purpose, and
    with which label. The lab keeps this log (DAWN): (positions (M,), watermark labels (M,))."""
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0.0 <= share <= 1.0:  # NaN fails too
        raise ValueError(f"share is the part of the API's answers made wrong on purpose, between 0 and 1 "
                         f"(0.15 = 15%), got {share!r}.")
    hashes = server.image_hash(images.to(teacher_logits.device), secret)
    given = server.expose(teacher_logits, hashes, "label", perturb=share)  # what the API answered
    marked = torch.nonzero(given != teacher_logits.argmax(1)).flatten()
    return marked, given[marked]


def matches(suspect_pred: torch.Tensor, mark_labels: torch.Tensor) -> torch.Tensor:
    """(M,) bool: where the suspect gave the mark's label (the teacher's wrong or adversarial answer, the watermark's)."""
    if suspect_pred.shape != mark_labels.shape or suspect_pred.ndim != 1 or len(mark_labels) == 0:
        raise ValueError(f"expected two label vectors of the same, non-zero length; got {tuple(suspect_pred.shape)} "
                         f"and {tuple(mark_labels.shape)}.")
    return suspect_pred.cpu() == mark_labels.cpu()


def transfer(suspect_pred: torch.Tensor, mark_labels: torch.Tensor) -> float:
    """Share of marked images on which the suspect gives the mark's label."""
    return matches(suspect_pred, mark_labels).float().mean().item()


# -- one suspect: its repeats against the innocent models' rate ---------------------------------------------------

def match_p(hits: int, trials: int, ref_hits: int, ref_trials: int) -> float:
    """p-value of one suspect that repeats `hits` of `trials` marks, against the lab's references, which
    repeated `ref_hits` of `ref_trials` (all references pooled).

    Assumption: an innocent model repeats each mark independently, with one rate r shared by every innocent
    model like the references. r is unknown; the references give it a uniform-prior posterior
    Beta(1 + ref_hits, 1 + ref_trials - ref_hits), so an innocent model's count X is beta-binomial, and
    p = P(X >= hits): how often an innocent model would repeat at least as many marks. DAWN (Szyller et al.
    2021) decides per suspect with the same kind of binomial tail."""
    for name, v in (("hits", hits), ("trials", trials), ("ref_hits", ref_hits), ("ref_trials", ref_trials)):
        if isinstance(v, bool) or not float(v).is_integer() or v < 0:
            raise ValueError(f"{name} must be a whole count >= 0, got {v!r}.")
    hits, trials, ref_hits, ref_trials = int(hits), int(trials), int(ref_hits), int(ref_trials)
    if hits > trials or ref_hits > ref_trials or trials == 0:
        raise ValueError(f"expected 0 <= hits <= trials (trials > 0) and 0 <= ref_hits <= ref_trials; got {hits} of "
                         f"{trials} and {ref_hits} of {ref_trials}.")
    if hits == 0:
        return 1.0  # every count is at least 0
    a, b = 1 + ref_hits, 1 + ref_trials - ref_hits

    def log_beta(x, y):
        return math.lgamma(x) + math.lgamma(y) - math.lgamma(x + y)

    def log_pmf(k):  # log P(X = k), X ~ BetaBinomial(trials, a, b)
        return math.log(math.comb(trials, k)) + log_beta(k + a, trials - k + b) - log_beta(a, b)

    return min(1.0, sum(math.exp(log_pmf(k)) for k in range(hits, trials + 1)))


# -- a designed panel: AUC, ROC, permutation p-value --------------------------------------------------------------

def auc(copies, independents) -> float:
    """Area under the ROC curve: the chance that a random copy scores above a random independent model
    (ties count one half; the Mann-Whitney statistic). 1 = perfect separation, 0.5 = the score knows nothing."""
    copies, independents = _finite(copies, "auc's copy scores"), _finite(independents, "auc's independent scores")
    if not copies or not independents:
        raise ValueError(f"auc needs at least one copy and one independent score, got {len(copies)} and "
                         f"{len(independents)}.")
    wins = sum((c > i) + 0.5 * (c == i) for c in copies for i in independents)
    return wins / (len(copies) * len(independents))


def p_floor(n_copies: int, n_independent: int) -> float:
    """The smallest p-value a panel of n_copies and n_independent suspects can give: one split in
    C(n_copies + n_independent, n_copies) is the observed one."""
    return 1 / math.comb(n_copies + n_independent, n_copies)


@dataclass
class Permutation:
    """permutation_p's answer: the p-value and how it was reached."""
    p: float
    exact: bool   # True: every split counted; False: `splits` random splits (Monte Carlo)
    splits: int   # splits counted, or drawn
    floor: float  # the smallest p this method could give here

    def __str__(self) -> str:
        how = f"exact, over all {self.splits:,d} splits" if self.exact else \
            f"Monte Carlo, {self.splits:,d} random splits (too many to count them all)"
        return f"p = {self.p:.2g} ({how}; the smallest possible here: {self.floor:.2g})"


def _midranks(scores: list[float]) -> list[float]:
    """Ranks 1..n of the scores, tied scores sharing their mean rank."""
    order = sorted(range(len(scores)), key=lambda j: scores[j])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def permutation_p(copies, independents, exact_limit: int = 200_000, draws: int = 100_000,
                  seed: int = 0) -> Permutation:
    """One-sided p-value of the AUC: among the ways of calling len(copies) of these models "copies", the
    share whose AUC is at least the observed one (valid when, without a real difference, the labels are
    exchangeable). Up to `exact_limit` splits, every split is counted; above, `draws` random splits are, and
    p = (1 + at least as good) / (1 + draws). The AUC of a split is its copies' rank sum, shifted and scaled,
    so the splits are compared by rank sums."""
    copies, independents = _finite(copies, "copy scores"), _finite(independents, "independent scores")
    if not copies or not independents:
        raise ValueError(f"permutation_p needs at least one copy and one independent score, got {len(copies)} and "
                         f"{len(independents)}.")
    n, ranks = len(copies), _midranks(copies + independents)
    observed = sum(ranks[:n]) - 1e-9  # ranks are multiples of 1/2: their sums are exact
    total = math.comb(len(ranks), n)
    if total <= exact_limit:
        hits = sum(sum(pick) >= observed for pick in itertools.combinations(ranks, n))
        return Permutation(hits / total, exact=True, splits=total, floor=1 / total)
    rng, r = np.random.default_rng(seed), np.asarray(ranks)
    hits = 0
    for start in range(0, draws, 10_000):  # in chunks: memory stays small however many draws
        size = min(10_000, draws - start)
        picks = np.argsort(rng.random((size, len(r))), axis=1)[:, :n]  # (size, n) a random split per row
        hits += int((r[picks].sum(1) >= observed).sum())
    return Permutation((1 + hits) / (1 + draws), exact=False, splits=draws, floor=1 / (1 + draws))


def roc(copies, independents) -> tuple[list, list]:
    """ROC curve points (false positive rates, true positive rates), one per threshold, from (0, 0) to (1, 1)."""
    copies, independents = _finite(copies, "copy scores"), _finite(independents, "independent scores")
    if not copies or not independents:
        raise ValueError(f"roc needs at least one copy and one independent score, got {len(copies)} and "
                         f"{len(independents)}.")
    fpr, tpr = [0.0], [0.0]
    for t in sorted(set(copies + independents), reverse=True):  # flag every suspect scoring >= t
        tpr.append(sum(c >= t for c in copies) / len(copies))
        fpr.append(sum(i >= t for i in independents) / len(independents))
    return fpr, tpr


# -- the simplest rule: above every reference ---------------------------------------------------------------------

def threshold(reference_scores, margin: float = 0.0) -> float:
    """The decision threshold calibrated on the lab's own independent models: above the highest of them
    (plus `margin`), so none of the lab's references would be flagged."""
    scores = _finite(reference_scores, "reference scores")
    if not scores:
        raise ValueError("threshold needs the scores of at least one reference model the lab trained itself.")
    return max(scores) + _finite([margin], "margin")[0]


def threshold_fpr(k: int) -> float:
    """How often an innocent model exchangeable with k references scores above all of them (ties aside): it is
    equally likely to be the highest of the k + 1, so 1 / (k + 1). Two references: 1 in 3."""
    if isinstance(k, bool) or int(k) != k or k < 1:
        raise ValueError(f"k is the number of reference models, a whole number >= 1; got {k!r}.")
    return 1 / (int(k) + 1)
