"""Notebook 05's study, defined once: who the suspects are, how each is trained, and its parameters per profile.

Every suspect is a models.Net trained by blackbox_study.train_copy (notebook 04's function): copies learn from
the lab's teacher (through its watermarked API, or white-box from its logits), independent models from the
true labels. The lab's own reference models are independent models it trains itself, to calibrate a threshold.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from . import blackbox_study, config, copier, models, server


@dataclass(frozen=True)
class Suspect:
    name: str     # how the notebook calls it
    kind: str     # "copy", "independent" or "reference" (the lab's own independent model)
    learns: str   # "api_label", "api_probs" (the watermarked API's answers), "logits" (white-box), "truth"
    pool: str     # which images: "copier" (what the copier sent the API), "other" or "lab" (disjoint pools)
    seed: int
    widths: tuple = models.STUDENT_WIDTHS


@dataclass
class DetectStudy:
    images: int            # training images per suspect (the copier's queries)
    epochs: float          # training passes over them
    watermark_share: float  # share of the API's answers made wrong on purpose, keyed to the pixels (DAWN)
    probes: int            # test images attacked for the adversarial probe (per suspect)
    mistake_probes: int    # test images for the shared-mistakes probe (kappa needs many: the teacher errs on few)
    suspects: tuple        # Suspect, ...
    secret: int = 7        # the watermark's key, known to the lab only
    eps: float = 8 / 255   # the adversarial examples' largest change per pixel (in [0, 1] units)
    pgd_steps: int = 10


LEARNS = {"api_label": "the API's labels (watermarked)", "api_probs": "the API's probabilities (watermarked)",
          "logits": "the teacher's logits (white-box)", "truth": "the true labels"}
WIDE = (32, 96, 128)  # a different, wider architecture for an independent model

_QUICK = (
    Suspect("label copy A", "copy", "api_label", "copier", 0), Suspect("label copy B", "copy", "api_label", "copier", 1),
    Suspect("probs copy A", "copy", "api_probs", "copier", 0), Suspect("probs copy B", "copy", "api_probs", "copier", 1),
    Suspect("white-box copy", "copy", "logits", "copier", 2),
    Suspect("same images A", "independent", "truth", "copier", 0),
    Suspect("same images B", "independent", "truth", "copier", 1),
    Suspect("wider net", "independent", "truth", "copier", 2, WIDE),
    Suspect("other images", "independent", "truth", "other", 3),
    Suspect("lab reference 1", "reference", "truth", "lab", 10), Suspect("lab reference 2", "reference", "truth", "lab", 11),
)
_FULL = _QUICK[:5] + (
    Suspect("label copy C", "copy", "api_label", "copier", 3), Suspect("white-box copy B", "copy", "logits", "copier", 4),
) + _QUICK[5:9] + (
    Suspect("teacher-size net", "independent", "truth", "copier", 4, models.TEACHER_WIDTHS),
    Suspect("other images B", "independent", "truth", "other", 5),
    Suspect("lab reference 1", "reference", "truth", "lab", 10), Suspect("lab reference 2", "reference", "truth", "lab", 11),
    Suspect("lab reference 3", "reference", "truth", "lab", 12),
)

STUDIES = {
    # one GPU: 10,000 queries per copy trained for 10 passes; 2% watermarked = about 200 logged answers
    "full": DetectStudy(images=10_000, epochs=10, watermark_share=0.02, probes=200, mistake_probes=2_000,
                        suspects=_FULL),
    # a CPU (about 700 student images/s): 1,000 queries, 12 passes; 15% watermarked = about 150 logged answers
    "quick": DetectStudy(images=1_000, epochs=12, watermark_share=0.15, probes=200, mistake_probes=1_000,
                         suspects=_QUICK),
}


def get_study(profile: str) -> DetectStudy:
    return STUDIES[config.study_profile(profile)]


def pools(num_train: int, study: DetectStudy, seed: int = 0) -> dict:
    """Three disjoint sets of training-image positions, study.images each: the copier's, other, the lab's."""
    if 3 * study.images > num_train:
        raise ValueError(f"the study needs 3 x {study.images:,d} distinct training images, the data has {num_train:,d}.")
    perm = torch.randperm(num_train, generator=torch.Generator().manual_seed(seed))
    return {name: perm[i * study.images:(i + 1) * study.images] for i, name in enumerate(("copier", "other", "lab"))}


def api_answers(teacher_logits: torch.Tensor, images: torch.Tensor, study: DetectStudy) -> dict:
    """What the lab's watermarked API answered the copier's images, in both exposures (label, probs)."""
    hashes = server.image_hash(images.to(teacher_logits.device), study.secret)
    return {e: server.expose(teacher_logits, hashes, e, perturb=study.watermark_share) for e in ("label", "probs")}


def targets(suspect: Suspect, labels: torch.Tensor, answers: dict, teacher_logits: torch.Tensor,
            T: float) -> torch.Tensor:
    """The training targets of one suspect: true labels, API labels, or probabilities at temperature T."""
    if suspect.learns == "truth":
        return labels
    if suspect.pool != "copier":
        raise ValueError(f"{suspect.name}: the teacher's answers exist for the copier's images only, not for the "
                         f"{suspect.pool!r} pool; a copy must use pool='copier'.")
    if suspect.learns == "api_label":
        return answers["label"]
    if suspect.learns == "api_probs":
        return copier.to_targets(answers["probs"], "probs", T=T)
    if suspect.learns == "logits":
        return copier.to_targets(teacher_logits, "logits", T=T)
    raise ValueError(f"unknown suspect.learns {suspect.learns!r}: one of truth, api_label, api_probs, logits.")


def train_suspect(suspect: Suspect, images: torch.Tensor, target: torch.Tensor, study: DetectStudy,
                  bb: blackbox_study.BlackBoxStudy):
    """blackbox_study.train_copy for study.epochs passes, with the suspect's seed and architecture."""
    model, _ = blackbox_study.train_copy(images, target, suspect.seed, bb, widths=suspect.widths, epochs=study.epochs)
    return model
