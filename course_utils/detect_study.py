"""Notebook 05's study, defined once: the suspects whose truth the lab knows, how each is trained and
questioned, and the decisions the lab draws from their answers. bench/detect_feasibility.py calls the same
functions.

Every suspect is a models.Net trained by blackbox_study.train_copy (notebook 04's function): copies learn from
the lab's teacher (through its watermarked API, or white-box from its logits), independent models from the
true labels. The lab's own reference models are independent models it trains itself: they say how often an
innocent model repeats the teacher's marks.

The primary panel is the copies that bought the API's answers against the independent models; the white-box
copies never saw a watermarked answer and are reported beside it, as the watermark's known blind spot.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm

from . import blackbox_study, config, copier, data, fingerprint, models, replay, results, server, stats, train

PROBES = {"mistakes": "copied mistakes", "adversarial": "adversarial answers", "watermark": "watermark answers"}
GROUPS = ("API copy", "white-box copy", "independent", "reference")
LEARNS = {"api_label": "the API's labels (watermarked)", "api_probs": "the API's probabilities (watermarked)",
          "logits": "the teacher's logits (white-box)", "truth": "the true labels"}
WIDE = (32, 96, 128)  # a different, wider architecture for an independent model


@dataclass(frozen=True)
class Suspect:
    name: str     # how the notebook calls it
    kind: str     # "copy", "independent" or "reference" (the lab's own independent model)
    learns: str   # "api_label", "api_probs" (the watermarked API's answers), "logits" (white-box), "truth"
    pool: str     # which images: "copier" (what the copier sent the API), "other" or "lab" (disjoint pools)
    seed: int     # initial weights and batch order (train_copy): a copy and its "same images" twin share it
    widths: tuple = models.STUDENT_WIDTHS

    @property
    def group(self) -> str:
        """One of GROUPS: the panel the suspect belongs to."""
        if self.kind == "copy":
            return "API copy" if self.learns.startswith("api") else "white-box copy"
        return self.kind


@dataclass
class DetectStudy:
    images: int             # training images per suspect (the copier's queries)
    epochs: float           # training passes over them
    watermark_share: float  # share of the API's answers made wrong on purpose, keyed to the pixels (DAWN)
    probes: int             # test images attacked for the adversarial probe (the same number of every class)
    mistake_probes: int     # test images for accuracy, kappa and the copied-mistake probe (the teacher errs on ~11%)
    suspects: tuple         # Suspect, ...
    alpha: float = 0.01     # a suspect is flagged when its p-value is below alpha (fixed after the pilot)
    secret: int = 7         # the watermark's key, known to the lab only
    eps: float = 8 / 255    # the adversarial examples' largest change per pixel (in [0, 1] units)
    pgd_steps: int = 10
    pool_seed: int = 0      # which training images go to which pool
    test_seed: int = 1      # which test images are probes
    recipe: str = "quick"   # blackbox_study's profile whose copy recipe (temperature, learning rate, batch) trains them


def panel(seeds: tuple, white_box: tuple, references: tuple, others: tuple, extra: tuple = ()) -> tuple:
    """The suspects of a study: per seed, a label copy and a probabilities copy through the API and an independent
    twin trained on the same images' true labels (same seed, network and recipe); white-box copies; a wider
    independent network; independent models on other images; the lab's references on its own images."""
    out = [Suspect(f"{e} copy {s}", "copy", f"api_{e}", "copier", s) for e in ("label", "probs") for s in seeds]
    out += [Suspect(f"white-box copy {s}", "copy", "logits", "copier", s) for s in white_box]
    out += [Suspect(f"same images {s}", "independent", "truth", "copier", s) for s in seeds]
    out += [Suspect(f"wider net {seeds[-1] + 1}", "independent", "truth", "copier", seeds[-1] + 1, WIDE)]
    out += [Suspect(f"other images {s}", "independent", "truth", "other", s) for s in others] + list(extra)
    return tuple(out + [Suspect(f"lab reference {r}", "reference", "truth", "lab", r) for r in references])


STUDIES = {
    # one GPU: 10,000 queries per copy trained for 10 passes; 2% watermarked = about 200 logged answers
    "full": DetectStudy(images=10_000, epochs=10, watermark_share=0.02, probes=200, mistake_probes=2_000,
                        suspects=panel(seeds=(0, 1, 2, 3, 4), white_box=(0, 1), references=tuple(range(10, 18)),
                                       others=(6, 7), extra=(Suspect("teacher-size net 8", "independent", "truth",
                                                                     "copier", 8, models.TEACHER_WIDTHS),)),
                        recipe="full"),
    # a CPU (a student trains in ~6 s of one core): 1,000 queries, 12 passes; 15% watermarked = about 150 logged
    "quick": DetectStudy(images=1_000, epochs=12, watermark_share=0.15, probes=200, mistake_probes=2_000,
                         suspects=panel(seeds=(0, 1, 2, 3, 4), white_box=(0, 1), references=tuple(range(10, 16)),
                                        others=(6, 7))),
}


def get_study(profile: str) -> DetectStudy:
    """The study's settings for a profile ("quick", "demo" replays quick, "full")."""
    name = config.study_profile(profile)
    if name not in STUDIES:
        raise ValueError(f"no detection study for profile {profile!r}: choose one of {('demo', *STUDIES)} "
                         "(lower case; COURSE_PROFILE sets it).")
    return STUDIES[name]


def pilot(study: DetectStudy, offset: int = 100) -> DetectStudy:
    """The same design on other seeds, other images in each pool, other probe images and another key: where
    the study's choices were made, so that the notebook's run confirms them rather than chooses them."""
    return dataclasses.replace(study, suspects=tuple(dataclasses.replace(s, seed=s.seed + offset,
                                                                         name=f"{s.name.rsplit(' ', 1)[0]} {s.seed + offset}")
                                                     for s in study.suspects),
                               secret=study.secret + offset, pool_seed=study.pool_seed + offset,
                               test_seed=study.test_seed + offset)


def roster(study: DetectStudy) -> list[dict]:
    """The suspects grouped for a table: group, what they learn, on which images, how many, their seeds."""
    rows = {}
    for s in study.suspects:
        arch = "" if s.widths == models.STUDENT_WIDTHS else f", widths {s.widths}"
        key = (s.group, LEARNS[s.learns], f"{s.pool} images{arch}")
        rows.setdefault(key, []).append(s.seed)
    return [{"group": g, "learns from": l, "on": p, "models": len(v), "seeds": ", ".join(map(str, v))}
            for (g, l, p), v in rows.items()]


# -- building the suspects ----------------------------------------------------------------------------------------

def pools(num_train: int, study: DetectStudy) -> dict:
    """Three disjoint sets of training-image positions, study.images each: the copier's, other, the lab's."""
    if 3 * study.images > num_train:
        raise ValueError(f"the study needs 3 x {study.images:,d} distinct training images, the data has {num_train:,d}.")
    perm = torch.randperm(num_train, generator=torch.Generator().manual_seed(study.pool_seed))
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


@dataclass
class Answers:
    """What one suspect answered the lab's probes (its weights are not kept: the lab only queries it)."""
    name: str
    group: str
    learns: str
    seed: int
    accuracy: float   # on the test probe images
    kappa: float      # error consistency with the teacher on them
    matches: dict     # {probe: (M,) bool, the suspect gave the mark's label on each marked image}
    fallback: float   # share of the adversarial images given its most common answer there
    seconds: float    # to train and question it

    def hits(self, probe: str, first: int | None = None) -> int:
        return int(self.matches[probe][:first].sum())

    def share(self, probe: str) -> float:
        return self.matches[probe].float().mean().item()


@dataclass
class Interrogation:
    """The whole panel's answers, with the teacher's accuracy on the same test images."""
    teacher_accuracy: float
    teacher_fallback: float  # share of the adversarial images given the teacher's most common adversarial answer
    answers: list     # Answers, in the study's order


def lab_marks(teacher, cifar, study: DetectStudy, pool: dict) -> tuple[dict, tuple]:
    """The three probes as (images, mark labels) each, and the test images with the teacher's answers there."""
    copier_images = cifar.train_images[pool["copier"]]
    logits = server.TeacherAPI(teacher, exposure="logits", budget=len(copier_images)).query(copier_images)
    marked, wm_labels = fingerprint.watermark(logits, copier_images, study.watermark_share, study.secret)
    idx = data.balanced_indices(cifar.test_labels, study.mistake_probes // 10, seed=study.test_seed)
    test_images, test_labels = cifar.test_images[idx], cifar.test_labels[idx]
    teacher_test = train.predict(teacher, test_images).argmax(1)
    wrong = teacher_test != test_labels
    attacked = data.balanced_indices(test_labels, study.probes // 10, seed=study.test_seed)  # every class alike
    adversarial = fingerprint.pgd(teacher, test_images[attacked], eps=study.eps, steps=study.pgd_steps)
    teacher_adv = train.predict(teacher, adversarial).argmax(1)
    fooled = teacher_adv != teacher_test[attacked]  # keep the images whose answer the attack changed
    marks = {"mistakes": (test_images[wrong], teacher_test[wrong]),
             "adversarial": (adversarial[fooled], teacher_adv[fooled]),
             "watermark": (copier_images[marked], wm_labels)}
    empty = [p for p, (x, _) in marks.items() if len(x) == 0]
    if empty:
        raise ValueError(f"the probe(s) {empty} have no marked images with this study: raise watermark_share (the "
                         "watermark), probes (adversarial) or mistake_probes (the teacher's mistakes).")
    return marks, (test_images, test_labels, teacher_test, logits)


def train_suspect(suspect: Suspect, images: torch.Tensor, target: torch.Tensor, study: DetectStudy):
    """blackbox_study.train_copy for study.epochs passes, with the suspect's seed and architecture."""
    bb = blackbox_study.get_study(study.recipe)
    model, _ = blackbox_study.train_copy(images, target, suspect.seed, bb, widths=suspect.widths, epochs=study.epochs)
    return model


@replay.cached("05_suspects")
def interrogate(teacher, cifar, study: DetectStudy, device) -> Interrogation:
    """Train every suspect, ask it the three probes, keep its answers. The long step of notebook 05."""
    pool = pools(len(cifar.train_labels), study)
    marks, (test_images, test_labels, teacher_test, logits) = lab_marks(teacher, cifar, study, pool)
    answers = api_answers(logits, cifar.train_images[pool["copier"]], study)
    T = blackbox_study.get_study(study.recipe).T  # notebook 04's temperature for soft targets
    out = []
    for s in tqdm(study.suspects, desc="suspects"):
        start = time.perf_counter()
        images, labels = cifar.train_images[pool[s.pool]], cifar.train_labels[pool[s.pool]]
        model = train_suspect(s, images, targets(s, labels, answers, logits, T), study)
        pred = train.predict(model, test_images).argmax(1)
        said = {p: train.predict(model, x).argmax(1) for p, (x, _) in marks.items()}
        out.append(Answers(s.name, s.group, s.learns, s.seed, accuracy=(pred == test_labels).float().mean().item(),
                           kappa=fingerprint.error_kappa(teacher_test, pred, test_labels),
                           matches={p: fingerprint.matches(said[p], y) for p, (_, y) in marks.items()},
                           fallback=_top_share(said["adversarial"]), seconds=time.perf_counter() - start))
    return Interrogation((teacher_test == test_labels).float().mean().item(), _top_share(marks["adversarial"][1]), out)


def _top_share(labels: torch.Tensor) -> float:
    """The share of the most common label."""
    return torch.bincount(labels.cpu()).max().item() / len(labels)


# -- what the lab concludes ---------------------------------------------------------------------------------------

def _by_group(run: Interrogation, *groups) -> list:
    return [a for a in run.answers if a.group in groups]


SCORE_COLUMNS = {"suspect": "suspect", "group": "group", "accuracy": ("accuracy", ".1%"), "kappa": ("kappa", ".3f"),
                 "kappa ceiling": ("kappa ceiling", ".3f"), "copied mistakes": ("mistakes", ".1%"),
                 "adversarial": ("adversarial", ".1%"), "watermark": ("watermark", ".1%"),
                 "one class to adversarial": ("fallback", ".0%")}


def score_table(run: Interrogation) -> list[dict]:
    """One row per suspect: its group, accuracy, kappa and kappa's ceiling at its accuracy, and each probe's share."""
    return [{"suspect": a.name, "group": a.group, "accuracy": a.accuracy, "kappa": a.kappa,
             "kappa ceiling": fingerprint.kappa_ceiling(run.teacher_accuracy, a.accuracy),
             **{p: a.share(p) for p in PROBES}, "fallback": a.fallback} for a in run.answers]


@dataclass
class Rule:
    """The simplest decision: flag a suspect above the highest of the lab's k references."""
    probe: str
    threshold: float
    references: int
    fpr: float          # 1 / (k + 1): how often it flags an innocent model like the references
    api_copies: str     # "flagged of n" per group
    white_box: str
    independent: str


RULE_COLUMNS = {"probe": "probe", "threshold": ("threshold", ".3f"), "references k": "references",
                "innocent flagged, 1/(k+1)": ("fpr", ".0%"), "API copies": "api_copies", "white-box": "white_box",
                "independent": "independent"}


def threshold_rules(run: Interrogation) -> list[Rule]:
    refs = _by_group(run, "reference")
    rules = []
    for p in PROBES:
        t = fingerprint.threshold([a.share(p) for a in refs])
        flagged = [f"{sum(a.share(p) > t for a in _by_group(run, g))} of {len(_by_group(run, g))}" for g in GROUPS[:3]]
        rules.append(Rule(PROBES[p], t, len(refs), fingerprint.threshold_fpr(len(refs)), *flagged))
    return rules


@dataclass
class Decision:
    """One suspect, tested on its own against the references' pooled rate (fingerprint.match_p)."""
    name: str
    group: str
    is_copy: bool
    hits: int
    trials: int
    p: float
    flagged: bool    # p < alpha


DECISION_COLUMNS = {"suspect": "name", "group": "group", "marks repeated": "hits", "of": "trials", "p": ("p", ".1e"),
                    "flagged": "flagged"}


def decisions(run: Interrogation, alpha: float, probe: str = "watermark", first: int | None = None) -> list[Decision]:
    """A p-value and a decision per suspect (the references excluded: they set the innocent rate). `first`:
    use only the first n marked images (a cheaper probe)."""
    refs = _by_group(run, "reference")
    trials = len(refs[0].matches[probe][:first])
    ref_hits = sum(a.hits(probe, first) for a in refs)
    out = []
    for a in _by_group(run, *GROUPS[:3]):
        p = fingerprint.match_p(a.hits(probe, first), trials, ref_hits, trials * len(refs))
        out.append(Decision(a.name, a.group, a.group.endswith("copy"), a.hits(probe, first), trials, p, p < alpha))
    return out


def innocent_rate(run: Interrogation, probe: str = "watermark") -> tuple[int, int]:
    """(hits, trials) of the lab's references, pooled: the innocent rate the per-suspect test uses."""
    refs = _by_group(run, "reference")
    return sum(a.hits(probe) for a in refs), sum(len(a.matches[probe]) for a in refs)


@dataclass
class PanelVerdict:
    """How well one probe separates the API copies from the independent models of this designed panel."""
    probe: str
    auc: float
    p: float
    method: str      # "exact" or "Monte Carlo"
    p_floor: float   # 1 / C(copies + independents, copies)
    auc_step: float  # what one swapped copy-independent pair changes: 1 / (copies x independents)
    white_box: float  # AUC of the white-box copies against the same independent models
    pilot_auc: float | None = None  # the API copies' AUC in the committed pilot of the same design (other seeds)


PANEL_COLUMNS = {"probe": "probe", "AUC, API copies": ("auc", ".3f"), "p": ("p", ".1e"), "p counted": "method",
                 "smallest possible p": ("p_floor", ".1e"), "one swap moves AUC by": ("auc_step", ".4f"),
                 "AUC, white-box copies": ("white_box", ".3f"), "AUC in the pilot": ("pilot_auc", ".3f")}
PILOT = "cpu/detect_pilot_{recipe}.json"  # committed by bench/detect_feasibility.py --pilot


def panel_verdicts(run: Interrogation, study: DetectStudy | None = None) -> list[PanelVerdict]:
    """Each probe over the panel: API copies against independent models, with the pilot's AUC when `study` has a
    committed pilot (quick)."""
    copies, indep, white = (_by_group(run, g) for g in ("API copy", "independent", "white-box copy"))
    pilot = results.bench(PILOT.format(recipe=study.recipe)) if study else None
    out = []
    for p in PROBES:
        c, i = [a.share(p) for a in copies], [a.share(p) for a in indep]
        perm = fingerprint.permutation_p(c, i)
        out.append(PanelVerdict(PROBES[p], fingerprint.auc(c, i), perm.p, "exact" if perm.exact else "Monte Carlo",
                                fingerprint.p_floor(len(c), len(i)), 1 / (len(c) * len(i)),
                                fingerprint.auc([a.share(p) for a in white], i) if white else float("nan"),
                                pilot["verdict"][PROBES[p]]["auc"] if pilot else None))
    return out


def pilot_note(study: DetectStudy) -> str:
    """Where the pilot's figures come from (its machine and threads), or that there is none for this profile."""
    pilot = results.bench(PILOT.format(recipe=study.recipe))
    if pilot is None:
        return f"no committed pilot for the {study.recipe} profile's design"
    seeds = [int(s["name"].rsplit(" ", 1)[1]) for s in pilot["detection"]["per_suspect"]]
    return (f"AUC in the pilot: the same design on seeds {min(seeds)}-{max(seeds)}, other images and another key; "
            f"{pilot['profile']} profile, {pilot['device']}, {pilot['threads']} thread(s), torch {pilot['torch']}")


def roc_curves(run: Interrogation) -> dict:
    """{probe name: (false positive rates, true positive rates, AUC)}: API copies against independent models."""
    copies, indep = _by_group(run, "API copy"), _by_group(run, "independent")
    out = {}
    for p in PROBES:
        c, i = [a.share(p) for a in copies], [a.share(p) for a in indep]
        out[PROBES[p]] = (*fingerprint.roc(c, i), fingerprint.auc(c, i))
    return out


def seed_gaps(run: Interrogation, probe: str = "watermark") -> dict:
    """Per exposure, the paired difference over seeds: an API copy's share of marks repeated minus that of its
    twin (same seed, images, network and recipe; true labels instead of the API's answers). stats.paired."""
    twin = {a.seed: a.share(probe) for a in run.answers if a.name.startswith("same images")}
    out = {}
    for learns in ("api_label", "api_probs"):
        copies = [a for a in run.answers if a.learns == learns and a.seed in twin]
        out[LEARNS[learns]] = stats.paired([a.share(probe) for a in copies], [twin[a.seed] for a in copies])
    return out


def probe_reading(run: Interrogation) -> str:
    """The behavioural probes in numbers: kappa against its ceiling per group, and how much the suspects' answers to
    the adversarial images collapse onto one class (which the teacher's adversarial answers do not)."""
    rows = score_table(run)

    def mean(key, group):
        mine = [r for r in rows if r["group"] == group]
        return sum(key(r) for r in mine) / len(mine)

    kappas, ceilings, accs, fall = ([r[k] for r in rows] for k in ("kappa", "kappa ceiling", "accuracy", "fallback"))
    of_ceiling = {g: mean(lambda r: r["kappa"] / r["kappa ceiling"], g) for g in ("API copy", "independent", "reference")}
    return (f"Kappa with the teacher: {min(kappas):.3f} to {max(kappas):.3f}. Its ceiling between the teacher "
            f"({run.teacher_accuracy:.1%}) and suspects of {min(accs):.1%} to {max(accs):.1%}: {min(ceilings):.3f} to "
            f"{max(ceilings):.3f}; on average the API copies reach {of_ceiling['API copy']:.0%} of theirs, the "
            f"independent models {of_ceiling['independent']:.0%}, the references {of_ceiling['reference']:.0%}. "
            f"On the adversarial images each suspect gives one class {min(fall):.0%} to {max(fall):.0%} of the time; "
            f"the teacher's adversarial answers, {run.teacher_fallback:.0%}.")


def decision_reading(run: Interrogation, alpha: float) -> str:
    """The per-suspect result in words, generated from the numbers, with the seed-paired gap's interval."""
    ref_hits, ref_trials = innocent_rate(run)
    out = decisions(run, alpha)

    def count(group):
        return f"{sum(d.flagged for d in out if d.group == group)} of {sum(d.group == group for d in out)}"

    api, indep = ([a.share("watermark") for a in _by_group(run, g)] for g in ("API copy", "independent"))
    gaps = [f"{name.replace(' (watermarked)', '')}: " + stats.reading(
        s, above="{interval}, above zero", below="{interval}, below zero", neither="{interval}, includes zero")
        for name, s in seed_gaps(run).items()]
    return (f"**In this run:** the lab's references repeated {ref_hits} of {ref_trials} logged wrong answers "
            f"({ref_hits / ref_trials:.1%}); the independent models {min(indep):.1%} to {max(indep):.1%} of theirs, "
            f"the API copies {min(api):.1%} to {max(api):.1%}. At alpha = "
            f"{alpha:g} the test flags {count('API copy')} API copies (the largest of their p-values: "
            f"{max(d.p for d in out if d.group == 'API copy'):.1e}), {count('white-box copy')} white-box copies and "
            f"{count('independent')} independent models. An API copy minus its twin, paired by seed: "
            + "; ".join(gaps) + ".")


def watermark_log(teacher, cifar, study: DetectStudy) -> list[dict]:
    """The lab's log of the copier's queries that the API answered wrongly on purpose: query, teacher, answer."""
    images = cifar.train_images[pools(len(cifar.train_labels), study)["copier"]]
    logits = server.TeacherAPI(teacher, exposure="logits", budget=len(images)).query(images)
    marked, wrong = fingerprint.watermark(logits, images, study.watermark_share, study.secret)
    return [{"query": int(i), "the teacher says": data.CLASSES[int(logits[i].argmax())],
             "the API answered": data.CLASSES[int(w)]} for i, w in zip(marked, wrong)]


def summary(run: Interrogation, study: DetectStudy) -> dict:
    """The figures notebook 05 saves (results JSON) and bench/detect_feasibility.py compares across threads."""
    verdicts = {v.probe: dataclasses.asdict(v) for v in panel_verdicts(run)}
    wm = verdicts[PROBES["watermark"]]
    ref_hits, ref_trials = innocent_rate(run)
    return {"detection": {"probe": "watermark", "p_floor": wm["p_floor"], "api_copies_auc": wm["auc"],
                          "p_value": wm["p"], "p_method": wm["method"], "white_box_auc": wm["white_box"],
                          "n_references": len(_by_group(run, "reference")),
                          "n_api_copies": len(_by_group(run, "API copy")),
                          "n_independent": len(_by_group(run, "independent")),
                          "threshold_fpr": fingerprint.threshold_fpr(len(_by_group(run, "reference"))),
                          "innocent_rate": ref_hits / ref_trials, "alpha": study.alpha,
                          "per_suspect": [{"name": d.name, "is_copy": d.is_copy, "group": d.group, "hits": d.hits,
                                           "trials": d.trials, "p": d.p, "flagged": d.flagged}
                                          for d in decisions(run, study.alpha)]},
            "verdict": verdicts, "scores": score_table(run),
            "seed_gaps": {k: {"mean": v["mean"], "lo": v["lo"], "hi": v["hi"], "n": v["n"]}
                          for k, v in seed_gaps(run).items()},
            "teacher_accuracy": run.teacher_accuracy, "train_seconds": {a.name: a.seconds for a in run.answers}}
