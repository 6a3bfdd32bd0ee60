r"""Behavioural fingerprints: does a suspect model behave like a copy of our teacher? (notebook 05)

The lab can only query the suspect. Each probe turns the suspect's answers into one score per suspect;
a higher score means "more like a copy".

    probe                      score                                                        source
    error_kappa(...)           Cohen's kappa between the teacher's and the suspect's        Geirhos et al. 2020
                               right/wrong pattern: shared mistakes beyond chance
    pgd(...) + transfer(...)   share of adversarial images crafted on the teacher on        Papernot et al. 2016;
                               which the suspect gives the teacher's (wrong) answer         Lukas et al. 2021
    watermark(...) + transfer  share of the API's keyed wrong answers the suspect repeats   DAWN, Szyller et al. 2021

Then auc() says how well a score separates copies from independent models (auc_interval(): how much that
depends on which suspects were drawn), permutation_p() how often chance alone would separate them as well, and threshold() calibrates a decision on the lab's own
independent reference models.
"""
from __future__ import annotations

import itertools

import torch
from torch import nn

from . import data, server


def error_kappa(teacher_pred: torch.Tensor, suspect_pred: torch.Tensor, labels: torch.Tensor) -> float:
    """Cohen's kappa of two right/wrong patterns: (observed agreement - chance agreement) / (1 - chance).

    Chance agreement is what two models with these accuracies would reach if their mistakes fell on
    independent images: p_t p_s + (1 - p_t)(1 - p_s). 0 = no more shared mistakes than chance; 1 = the same
    images right and wrong."""
    if not teacher_pred.shape == suspect_pred.shape == labels.shape or teacher_pred.ndim != 1:
        raise ValueError(f"expected three label vectors (N,) of the same length, got shapes {tuple(teacher_pred.shape)}, "
                         f"{tuple(suspect_pred.shape)} and {tuple(labels.shape)}. Pass predicted classes "
                         "(logits.argmax(1)), not logits.")
    t_right, s_right = teacher_pred == labels, suspect_pred == labels  # (N,) bool each
    observed = (t_right == s_right).float().mean().item()
    p_t, p_s = t_right.float().mean().item(), s_right.float().mean().item()
    chance = p_t * p_s + (1 - p_t) * (1 - p_s)
    if chance >= 1:  # both always right (or always wrong): no pattern to compare
        return 0.0
    return (observed - chance) / (1 - chance)


def pgd(model: nn.Module, images: torch.Tensor, eps: float = 8 / 255, steps: int = 10, step: float = 2 / 255,
        batch_size: int = 500) -> torch.Tensor:
    """Untargeted adversarial images (PGD, Madry et al. 2018): each uint8 image (N, 3, 32, 32) moved by at
    most `eps` per pixel (in [0, 1] units) to raise the model's loss on its own prediction. Returns uint8."""
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


def transfer(suspect_pred: torch.Tensor, mark_labels: torch.Tensor) -> float:
    """Share of marked images (adversarial, or watermarked) on which the suspect gives the mark's label:
    the teacher's wrong answer, which an independent model has no reason to give."""
    if suspect_pred.shape != mark_labels.shape or len(mark_labels) == 0:
        raise ValueError(f"expected two label vectors of the same, non-zero length; got {tuple(suspect_pred.shape)} "
                         f"and {tuple(mark_labels.shape)}.")
    return (suspect_pred == mark_labels).float().mean().item()


def watermark(teacher_logits: torch.Tensor, images: torch.Tensor, share: float, secret: int) -> tuple:
    """Which of these queries a TeacherAPI(perturb=share, secret=secret) answered wrongly on purpose, and
    with which label. The lab keeps this log (DAWN): (positions (M,), watermark labels (M,))."""
    hashes = server.image_hash(images.to(teacher_logits.device), secret)
    given = server.expose(teacher_logits, hashes, "label", perturb=share)  # what the API answered
    marked = torch.nonzero(given != teacher_logits.argmax(1)).flatten()
    return marked, given[marked]


def auc(copies, independents) -> float:
    """Area under the ROC curve: the chance that a random copy scores above a random independent model
    (ties count one half). 1 = perfect separation, 0.5 = the score knows nothing."""
    copies, independents = [float(c) for c in copies], [float(i) for i in independents]
    if not copies or not independents:
        raise ValueError(f"auc needs at least one copy and one independent score, got {len(copies)} and "
                         f"{len(independents)}.")
    wins = sum((c > i) + 0.5 * (c == i) for c in copies for i in independents)
    return wins / (len(copies) * len(independents))


def permutation_p(copies, independents) -> float:
    """Exact one-sided p-value of the AUC: among every way of calling len(copies) of these models "copies",
    the share whose AUC is at least the observed one. Small = the separation is unlikely to be luck."""
    scores = [float(s) for s in list(copies) + list(independents)]
    n = len(copies)
    observed = auc(copies, independents)
    splits = list(itertools.combinations(range(len(scores)), n))
    hits = sum(auc([scores[i] for i in pick], [scores[i] for i in range(len(scores)) if i not in pick]) >= observed - 1e-12
               for pick in splits)
    return hits / len(splits)


def auc_interval(copies, independents, confidence: float = 0.95, resamples: int = 2000, seed: int = 0) -> tuple:
    """Bootstrap interval of the AUC over suspects: redraw the copies and the independent models (each group with
    replacement, its size kept) and read the middle `confidence` of the AUCs. With few suspects it is rough, and
    at perfect separation it cannot show doubt (every redraw also separates): read it with permutation_p()."""
    g = torch.Generator().manual_seed(seed)
    c, i = torch.tensor([float(v) for v in copies]), torch.tensor([float(v) for v in independents])
    aucs = sorted(auc(c[torch.randint(len(c), (len(c),), generator=g)].tolist(),
                      i[torch.randint(len(i), (len(i),), generator=g)].tolist()) for _ in range(resamples))
    tail = (1 - confidence) / 2
    return aucs[int(tail * resamples)], aucs[min(int((1 - tail) * resamples), resamples - 1)]


def roc(copies, independents) -> tuple[list, list]:
    """ROC curve points (false positive rates, true positive rates), one per threshold, from (0, 0) to (1, 1)."""
    thresholds = sorted({float(s) for s in list(copies) + list(independents)}, reverse=True)
    fpr, tpr = [0.0], [0.0]
    for t in thresholds:  # flag every suspect scoring >= t
        tpr.append(sum(float(c) >= t for c in copies) / len(copies))
        fpr.append(sum(float(i) >= t for i in independents) / len(independents))
    return fpr, tpr


def threshold(reference_scores, margin: float = 0.0) -> float:
    """The decision threshold calibrated on the lab's own independent models: above the highest of them
    (plus `margin`), so none of the lab's references would be flagged."""
    scores = [float(s) for s in reference_scores]
    if not scores:
        raise ValueError("threshold needs the scores of at least one reference model the lab trained itself.")
    return max(scores) + margin
