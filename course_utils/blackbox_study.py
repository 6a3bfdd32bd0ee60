"""Notebooks 04 and 04b's study, defined once: the copier's position, its parameters per profile, and the runs.

The copier holds a few true labels (`labelled_per_class` per class), a pool of unlabelled images, and an account
with a budget of API answers. A copy trains on its own labels plus the answers it bought; the copier's own
student trains on its labels alone. Every run returns a plain record (`Copy`); the notebooks tabulate and plot
them, and the bench scripts call the same functions.

Pairing: seed s draws the copier's labelled set, the initial weights and the batch order, the same for every arm
(budget, exposure, teacher, defence) of that seed. Each arm's learning rate and passes were chosen on validation
images (bench/blackbox_choices.py, read by get_study); the test images measure, once per copy.
"""
from __future__ import annotations

import json
import math
import operator
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from tqdm.auto import tqdm

from . import config, copier, data, metrics, models, replay, server, stats, train
from .results import BENCH_DIR, bench


@dataclass
class BlackBoxStudy:
    labelled_per_class: int  # true labels the copier holds per class (notebook 03's student had 20)
    budgets: tuple  # label answers bought: the points of the primary curve; the last is the primary comparison
    seeds: tuple  # paired seeds (see the module docstring)
    exposures: tuple  # answers compared at the smallest budget
    transfer_budget: int  # queries per transfer set (where the queries come from)
    transfer_seeds: tuple  # seeds of that comparison
    val_per_class: int  # test-split images per class for choices (learning rate, passes); no model trains on them
    test_per_class: int  # test-split images per class that measure; the rest of the test split: images the
                         # teacher never saw
    batch_size: int  # images per step (at most the copier's dataset)
    lr: float  # peak learning rate at batch 1024 of an arm without a validated choice (and of notebook 05's copies)
    epochs: float  # passes of such an arm ...
    min_steps: int  # ... but at least this many steps
    max_images: int | None = None  # a copy trains on at most this many images (passes x its dataset): the CPU's time
    choices: dict = field(default_factory=dict)  # arm ("label@3000") -> {"lr", "passes"} chosen on validation
    k: int = 3  # classes a "top_k" answer shows
    T: float = 2.0  # temperature of every soft target, fixed in advance
    price_per_1k: float = 1.0  # an illustrative price in dollars per 1,000 queries (no real API's price)
    stream_seed: int = 0  # the order in which the copier sends its unlabelled images


@dataclass
class LimitsStudy:
    """Notebook 04b: what limits a copy. Every copy is notebook 04's copier at `budget` label answers."""
    budget: int  # label answers per copy (its label and probs copies' choices made on validation)
    seeds: tuple  # paired seeds of every section
    quality_epochs: tuple  # training passes of the cheaper teachers
    quality_widths: tuple  # their architecture
    quality_train_per_class: int | None  # the labelled images per class they learn from (None: all 5,000)
    twin_course_teacher: bool  # train the course teacher's twin (another seed): seconds on a GPU, hours on a CPU
    capacity_seeds: tuple  # seeds of the teacher-sized copies (none: the section shows a committed illustration)
    perturb: float = 0.1  # the share of deliberately wrong answers of the perturbing defence
    decimals: int = 1  # the rounding defence's decimals
    label_price: float = 0.05  # an illustrative price in dollars of one human label (no real service's price)


STUDIES = {
    # one GPU: budgets up to most of the training set, 10 seeds, the whole remaining test split
    "full": BlackBoxStudy(labelled_per_class=20, budgets=(1_000, 5_000, 20_000, 40_000), seeds=tuple(range(10)),
                          exposures=("probs", "top_k", "label"), transfer_budget=5_000, transfer_seeds=(0, 1, 2, 3, 4),
                          val_per_class=200, test_per_class=300, batch_size=1024, lr=train.STUDENT_RECIPE.lr,
                          epochs=10, min_steps=200),
    # a 2-core CPU: a student trains about 1,300 images/s on one thread, the teacher answers about 270 images/s
    "quick": BlackBoxStudy(labelled_per_class=20, budgets=(250, 3_000), seeds=(0, 1, 2, 3, 4),
                           exposures=("probs", "top_k", "label"), transfer_budget=250, transfer_seeds=(0, 1, 2),
                           val_per_class=200, test_per_class=100, batch_size=128, lr=train.TEACHER_RECIPE.lr,
                           epochs=3, min_steps=50, max_images=30_000),
}
LIMITS = {
    "full": LimitsStudy(budget=5_000, seeds=(0, 1, 2, 3, 4), quality_epochs=(1, 2, 4), quality_widths=models.TEACHER_WIDTHS,
                        quality_train_per_class=None, twin_course_teacher=True, capacity_seeds=(0, 1, 2)),
    "quick": LimitsStudy(budget=1_000, seeds=(0, 1, 2), quality_epochs=(0.5, 2), quality_widths=models.STUDENT_WIDTHS,
                         quality_train_per_class=400, twin_course_teacher=False, capacity_seeds=()),
}
OWN = 0  # the budget of the copier's own student: no queries


def choices_file(profile: str) -> Path:
    profile = config.study_profile(profile)
    return BENCH_DIR / ("cpu" if profile == "quick" else "gpu") / f"blackbox_choices_{profile}.json"


def get_study(profile: str) -> BlackBoxStudy:
    """The study of this profile, with each arm's learning rate and passes read from the validation bench's JSON."""
    profile = config.study_profile(profile)
    path = choices_file(profile)
    chosen = json.loads(path.read_text())["chosen"] if path.exists() else {}
    return replace(STUDIES[profile], choices=chosen)


def get_limits(profile: str) -> LimitsStudy:
    return LIMITS[config.study_profile(profile)]


def arm(exposure: str, budget: int) -> str:
    """An arm's name: 'own labels' (no queries), else '<exposure>@<budget>' (e.g. 'label@3000')."""
    return "own labels" if budget == OWN else f"{exposure}@{budget}"


def choice(study: BlackBoxStudy, exposure: str, budget: int) -> tuple[float, float | None]:
    """(learning rate, passes) of an arm: the validated choice, else (study.lr, None: steps_for's default)."""
    c = study.choices.get(arm(exposure, budget))
    return (float(c["lr"]), float(c["passes"])) if c else (study.lr, None)


# -- the data: what the copier holds, what the lab measures on ----------------------------------------------------

def query_stream(num_images: int, n: int, seed: int = 0) -> torch.Tensor:
    """Positions (n,) of the first n images of a query stream: the copier sends its num_images
    unlabelled images to the API in one fixed random order (seed), so a budget of b queries buys
    the first b of them, and a larger budget contains every smaller one."""
    try:
        whole = operator.index(n) if not isinstance(n, bool) else None
    except TypeError:
        whole = None
    if whole is None or not 0 < whole <= num_images:
        raise ValueError(f"A stream of n queries from {num_images:,d} images needs a whole number 0 < n <= "
                         f"{num_images:,d}; got n={n!r}. Lower the budget, or add images to the transfer set.")
    n = whole
    return torch.randperm(num_images, generator=torch.Generator().manual_seed(seed))[:n]


@dataclass
class Split:
    """The images of the study. Training split: the stream (the copier's unlabelled images, in query order) and the
    pool its labelled sets come from. Test split: validation (choices), test (measurement), unseen (the teacher
    never saw them). True labels of the stream and the unseen images are for the lab's analysis only."""
    stream: torch.Tensor
    stream_labels: torch.Tensor
    pool_images: torch.Tensor  # training images outside the stream: each seed's own labelled set
    pool_labels: torch.Tensor
    val_images: torch.Tensor  # choices (learning rates, passes) are made here
    val_labels: torch.Tensor
    test_images: torch.Tensor  # every reported accuracy and fidelity
    test_labels: torch.Tensor
    unseen_images: torch.Tensor
    unseen_labels: torch.Tensor


def split(cifar: data.CIFAR10, study: BlackBoxStudy, stream_size: int | None = None) -> Split:
    """The study's images: validation (seed 7) and test (seed 0) drawn per class from the test split, the rest
    of it shuffled as the unseen pool; the stream (the first `stream_size` training images of the query order,
    default the largest budget) and the other training images as the pool of labelled sets."""
    rest, val_x, val_y = cifar.set_aside("test", study.val_per_class, seed=7)
    rest, test_x, test_y = rest.set_aside("test", study.test_per_class, seed=0)
    n = stream_size or max(study.budgets)
    order = query_stream(len(cifar.train_images), len(cifar.train_images), study.stream_seed).to(cifar.train_images.device)
    stream, pool = order[:n], order[n:].sort().values
    unseen = query_stream(len(rest.test_images), len(rest.test_images), study.stream_seed).to(rest.test_images.device)
    return Split(cifar.train_images[stream], cifar.train_labels[stream], cifar.train_images[pool],
                 cifar.train_labels[pool], val_x, val_y, test_x, test_y, rest.test_images[unseen],
                 rest.test_labels[unseen])


def labelled(sp: Split, seed: int, study: BlackBoxStudy) -> tuple[torch.Tensor, torch.Tensor]:
    """The copier's own labelled images of this seed: `labelled_per_class` per class, drawn from the pool."""
    idx = data.balanced_indices(sp.pool_labels, study.labelled_per_class, seed=seed).to(sp.pool_labels.device)
    return sp.pool_images[idx], sp.pool_labels[idx]


@dataclass
class Answers:
    """One pass of the teacher's API over images (float32, as it answers), formatted per exposure on demand:
    the same answers as a separate API per exposure would give (server.expose is the API's own formatter)."""
    logits: torch.Tensor  # (N, C)
    hashes: torch.Tensor  # (N,) per-image keys of the perturbing defence and the sentences
    k: int = 3
    seconds: float = math.nan  # how long the API took to answer

    def get(self, exposure: str, n: int | None = None, **defence):
        """The first n answers (default all) as `exposure` gives them; defence: decimals=..., perturb=..."""
        return server.expose(self.logits[:n], self.hashes[:n], exposure, k=self.k, **defence)


def buy(teacher: nn.Module, images: torch.Tensor, study: BlackBoxStudy) -> Answers:
    """The teacher's answers to `images`, bought through its API (one query per image)."""
    api = server.TeacherAPI(teacher, exposure="logits", budget=len(images), price_per_1k=study.price_per_1k)
    start = time.perf_counter()
    logits = copier.collect(api, images)
    train.sync(images.device)
    return Answers(logits, server.image_hash(images), study.k, time.perf_counter() - start)


def teacher_answers(teacher: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """The teacher's label on each image, as its API answers (float32): the lab's reference for fidelity."""
    return server.TeacherAPI(teacher, exposure="label", budget=len(images)).query(images)


# -- one copy --------------------------------------------------------------------------------------------------------

def steps_for(budget: int, study: BlackBoxStudy) -> int:
    """Training steps of a copy with `budget` images and no validated choice: `study.epochs` passes at batches of
    min(batch_size, budget) images, and at least `study.min_steps`."""
    return max(study.min_steps, math.ceil(study.epochs * budget / min(study.batch_size, budget)))


def train_copy(images: torch.Tensor, targets: torch.Tensor, seed: int, study: BlackBoxStudy, *,
               widths=models.STUDENT_WIDTHS, cfg: train.TrainConfig | None = None, epochs: float | None = None,
               lr: float | None = None, loss_fn=None):
    """Train a copy (a models.Net of `widths`) on (images -> targets) with train.fit; targets are labels (N,) or
    rows (N, C) of probabilities (copier.to_targets), trained with copier.student_loss(study.T) unless `loss_fn`.

    Default: the student recipe at study.lr (or `lr`) for steps_for(len(images), study) steps; `epochs` (passes)
    replaces steps_for. With `cfg` its own learning rate is kept. Returns (model, train.History)."""
    loader = data.Loader(images, targets, batch_size=min(study.batch_size, len(images)), seed=seed)
    config.set_seed(1000 + seed)  # the same initial weights for every copy of this seed
    net = models.make_net(widths, whiten_with=images).to(images.device)
    overrides = {} if cfg else {"lr": lr or study.lr}
    history = train.fit(net, loader, loss_fn or copier.student_loss(study.T), cfg=cfg or train.STUDENT_RECIPE,
                        epochs=epochs if epochs is not None else steps_for(len(images), study) / len(loader),
                        verbose=False, **overrides)
    return net, history


@dataclass
class Lab:
    """What the lab measures a copy on (outside any budget): images, true labels, the teacher's answers there."""
    images: torch.Tensor
    labels: torch.Tensor
    teacher: torch.Tensor | None = None  # None: no fidelity (validation)


@dataclass
class Copy:
    """One trained copy, measured: its arm, seed, accuracy and fidelity on the lab's test images, and its run."""
    arm: str
    seed: int
    acc: float  # agreement with the true labels
    fid: float  # agreement with the teacher (NaN where the lab has no teacher answers)
    steps: int
    images_seen: int  # images trained on (steps x batch)
    seconds: float  # training time
    pred: torch.Tensor  # (N,) its test answers, for further measures
    logits: torch.Tensor | None = None  # its logits on the images it was asked about (a born-again student's targets)


def copier_dataset(own: tuple, images: torch.Tensor | None = None, targets: torch.Tensor | None = None):
    """(images, targets) a copy trains on: its own labelled images, plus the answered `images` with their
    `targets` (labels (N,) or probability rows (N, C)); labels become one-hot rows beside probabilities."""
    own_x, own_y = own
    if images is None or len(images) == 0:
        return own_x, own_y
    if targets.ndim == 1:
        return torch.cat([own_x, images]), torch.cat([own_y, targets.to(own_y.device)])
    onehot = nn.functional.one_hot(own_y, targets.shape[1]).to(targets.dtype)
    return torch.cat([own_x, images]), torch.cat([onehot, targets.to(onehot.device)])


def copy_once(name: str, images: torch.Tensor, targets: torch.Tensor, seed: int, lr: float, passes: float | None,
              study: BlackBoxStudy, lab: Lab, widths=models.STUDENT_WIDTHS, cfg=None, logits_on=None) -> Copy:
    """Train one copy on (images -> targets) for `passes` over them (None: steps_for), measure it on the lab's
    images: a Copy (with its logits on `logits_on`, if given). Rows that name one class train with cross-entropy,
    distributions with T^2 KL."""
    batch = min(study.batch_size, len(images))
    epochs = None if passes is None else max(1, round(passes * len(images) / batch)) / (len(images) // batch)
    model, history = train_copy(images, targets, seed, study, widths=widths, cfg=cfg, epochs=epochs, lr=lr,
                                loss_fn=copier.mixed_loss(study.T))
    pred = train.predict(model, lab.images).argmax(1)
    fid = metrics.agreement(pred, lab.teacher) if lab.teacher is not None else math.nan
    logits = None if logits_on is None else train.predict(model, logits_on).cpu()
    return Copy(name, seed, metrics.agreement(pred, lab.labels), fid, round(history.images_seen / batch),
                history.images_seen, history.train_seconds, pred.cpu(), logits)


def copy_arm(sp: Split, answers: Answers, exposure: str, budget: int, seed: int, study: BlackBoxStudy, lab: Lab,
             lr: float | None = None, passes: float | None = None) -> Copy:
    """The copier of this seed with `budget` answers of `exposure` from the stream (budget 0: its own student),
    at the arm's validated learning rate and passes unless given."""
    chosen_lr, chosen_passes = choice(study, exposure, budget)
    targets = None if budget == OWN else copier.to_targets(answers.get(exposure, budget), exposure, T=study.T)
    x, y = copier_dataset(labelled(sp, seed, study), sp.stream[:budget], targets)
    return copy_once(arm(exposure, budget), x, y, seed, lr or chosen_lr, passes or chosen_passes, study, lab)


# -- summaries -------------------------------------------------------------------------------------------------------

def by_arm(copies: list) -> dict:
    """{arm: [copies in seed order]}."""
    out: dict = {}
    for c in sorted(copies, key=lambda c: c.seed):
        out.setdefault(c.arm, []).append(c)
    return out


def paired(copies: list, a: str, b: str, measure: str = "acc") -> dict:
    """stats.paired_summary of arm a minus arm b, seed by seed, over the seeds both have."""
    arms = by_arm(copies)
    sa, sb = {c.seed: getattr(c, measure) for c in arms[a]}, {c.seed: getattr(c, measure) for c in arms[b]}
    seeds = sorted(set(sa) & set(sb))
    return stats.paired_summary([sa[s] - sb[s] for s in seeds])


def interval(summary: dict) -> str:
    """'+19.9 [+17.7, +22.1], above zero': a paired summary in points, compact, with where its interval lies."""
    where = stats.reading(summary, above="above zero", below="below zero", neither="includes zero")
    return f"{100 * summary['mean']:+.1f} [{100 * summary['lo']:+.1f}, {100 * summary['hi']:+.1f}], {where}"


def table(copies: list) -> list[dict]:
    """One row per arm: seeds, mean accuracy and fidelity, steps, training seconds (for show.table)."""
    return [{"arm": name, "seeds": len(cs), "acc": [100 * c.acc for c in cs], "fid": [100 * c.fid for c in cs],
             "steps": cs[0].steps, "seconds": [c.seconds for c in cs]} for name, cs in by_arm(copies).items()]


def at_budget(budgets, values, queries: float) -> float:
    """A measured curve (values at increasing budgets) read at `queries`, linear in log(queries);
    clamped to the measured range (below the first budget: the first value; above the last: the last)."""
    b = np.asarray(budgets, dtype=float)
    if len(b) != len(values) or np.any(np.diff(b) <= 0):
        raise ValueError(f"at_budget needs budgets in increasing order, one value each; got budgets {list(budgets)} "
                         f"and {len(values)} values. Sort both by budget first.")
    if not (np.all(np.isfinite(np.asarray(values, dtype=float))) and math.isfinite(float(queries))):
        raise ValueError(f"at_budget needs finite values and queries; got values {list(values)} and queries "
                         f"{queries!r}. A NaN value is a failed run: rerun it or leave its budget out.")
    return float(np.interp(np.log(max(float(queries), 1.0)), np.log(b), np.asarray(values, dtype=float)))


def synthetic_images(n: int, seed: int = 0, device=None) -> torch.Tensor:
    """n smooth random colour images, uint8 (n, 3, 32, 32): noise at 4x4, 8x8, 16x16 and 32x32
    resolution, upsampled and summed with falling weights (no objects, no classes)."""
    g = torch.Generator().manual_seed(seed)
    img = torch.zeros(n, 3, 32, 32)
    for size, weight in ((4, 1.0), (8, 0.5), (16, 0.25), (32, 0.125)):
        noise = torch.randn(n, 3, size, size, generator=g)
        img += weight * nn.functional.interpolate(noise, size=32, mode="bilinear", align_corners=False)
    lo = img.amin(dim=(1, 2, 3), keepdim=True)
    hi = img.amax(dim=(1, 2, 3), keepdim=True)
    img = (img - lo) / (hi - lo) * 255  # each image spans the full range
    return img.round().to(torch.uint8).to(device or "cpu")


# -- notebook 04: what the answers buy -----------------------------------------------------------------------------

@replay.cached("04_copies")
def copies(sp: Split, answers: Answers, study: BlackBoxStudy, lab: Lab, device=None) -> list:
    """The primary curve: every seed's own student and its label copies at every budget."""
    runs = [(b, s) for s in study.seeds for b in (OWN, *study.budgets)]
    return [copy_arm(sp, answers, "label", b, s, study, lab) for b, s in tqdm(runs, desc="copies")]


def points(copies: list, study: BlackBoxStudy, exposure: str = "label") -> dict:
    """{x label: {"acc": [per seed], "fid": [per seed]}} of the own student and each budget, for plots.plot_copies."""
    arms = by_arm(copies)
    out = {}
    for b in (OWN, *study.budgets):
        label = "0\n(own labels only)" if b == OWN else f"{b:,d}\n(${b * study.price_per_1k / 1000:,.2f})"
        out[label] = {key: [getattr(c, key) for c in arms[arm(exposure, b)]] for key in ("acc", "fid")}
    return out


def primary(copies: list, study: BlackBoxStudy, teacher_acc: float) -> dict:
    """Notebook 04's results contract: the primary comparison (the copy at the largest budget minus the copier's
    own student, accuracy points), the copy's fidelity over the floor, and the accuracies (seed means, %)."""
    top, own = arm("label", max(study.budgets)), arm("label", OWN)
    gain, fid = paired(copies, top, own), paired(copies, top, own, "fid")
    arms = by_arm(copies)

    def points_of(s: dict) -> dict:
        return {"mean": 100 * s["mean"], "lo": 100 * s["lo"], "hi": 100 * s["hi"], "n_seeds": s["n"]}

    return {"primary": {"name": f"{top} (own labels + label answers) minus {own}, test accuracy", **points_of(gain)},
            "fidelity_over_floor": points_of(fid),
            "accuracy": {"copy": 100 * float(np.mean([c.acc for c in arms[top]])),
                         "own_labels": 100 * float(np.mean([c.acc for c in arms[own]])), "teacher": 100 * teacher_acc}}


@replay.cached("04_exposures")
def exposure_copies(sp: Split, answers: Answers, study: BlackBoxStudy, lab: Lab, device=None) -> list:
    """The richer exposures' copies at the smallest budget, every seed (the label copies are in `copies`)."""
    runs = [(e, s) for s in study.seeds for e in study.exposures if e != "label"]
    return [copy_arm(sp, answers, e, study.budgets[0], s, study, lab) for e, s in tqdm(runs, desc="exposures")]


def exposure_pairs(copies: list, study: BlackBoxStudy) -> list[dict]:
    """Each pair of exposures at the smallest budget, richer minus poorer: the paired accuracy difference."""
    b, names = study.budgets[0], list(study.exposures)
    rows = []
    for i, a in enumerate(names):
        for c in names[i + 1:]:
            s = paired(copies, arm(a, b), arm(c, b))
            rows.append({"pair": f"{a} - {c}", "mean": 100 * s["mean"], "lo": 100 * s["lo"], "hi": 100 * s["hi"],
                         "seeds": s["n"], "verdict": stats.verdict(s)})
    return rows


def order_reading(pairs: list[dict]) -> str:
    """One sentence on whether these seeds order the exposures, from the pairs' intervals."""
    told = [p for p in pairs if p["lo"] > 0 or p["hi"] < 0]
    if not told:
        return (f"No pair's interval excludes zero: these {pairs[0]['seeds']} seeds cannot order the exposures at "
                "this budget.")
    return "These seeds tell apart: " + "; ".join(f"{p['pair']} {p['mean']:+.1f} points [{p['lo']:+.1f}, "
                                                   f"{p['hi']:+.1f}]" for p in told) + ". The other pairs they cannot."


@dataclass
class TransferSet:
    """Unlabelled images a copier could send, and the teacher's label answers to them."""
    name: str
    images: torch.Tensor
    answers: torch.Tensor  # (N,) label answers
    truth: torch.Tensor | None  # (N,) true labels where they exist: the lab's analysis only


def transfer_sets(sp: Split, answers: Answers, teacher: nn.Module, study: BlackBoxStudy) -> list:
    """The copier's choices of inputs, `transfer_budget` each: the teacher's training images (the stream), natural
    images it never saw (test split), animal images only (from the stream) and smooth random images."""
    n = study.transfer_budget
    vehicles = torch.tensor([data.CLASSES.index(c) for c in VEHICLES], device=sp.stream_labels.device)
    animal = torch.nonzero(~torch.isin(sp.stream_labels, vehicles)).flatten()[:n]
    unseen, synthetic = sp.unseen_images[:n], synthetic_images(n, seed=1, device=sp.stream.device)
    label = answers.get("label")
    return [TransferSet("its training images", sp.stream[:n], label[:n], sp.stream_labels[:n]),
            TransferSet("images it never saw", unseen, buy(teacher, unseen, study).get("label"), sp.unseen_labels[:n]),
            TransferSet("animals only", sp.stream[animal], label[animal], sp.stream_labels[animal]),
            TransferSet("synthetic", synthetic, buy(teacher, synthetic, study).get("label"), None)]


VEHICLES = ("airplane", "automobile", "ship", "truck")


def describe_sets(sets: list) -> list[dict]:
    """Per transfer set: how often the answers are right, and the share of its most frequent answer."""
    rows = []
    for t in sets:
        counts = torch.bincount(t.answers.cpu(), minlength=len(data.CLASSES))
        rows.append({"set": t.name, "right": math.nan if t.truth is None else 100 * metrics.agreement(t.answers, t.truth),
                     "top answer": data.CLASSES[int(counts.argmax())], "its share": 100 * counts.max().item() / len(t.answers)})
    return rows


@replay.cached("04_transfer_sets")
def transfer_copies(sets: list, sp: Split, study: BlackBoxStudy, lab: Lab, reused: list = (), device=None) -> list:
    """A label copy from each transfer set (own labels + its answers), at the budget's validated choices. The
    first set is the stream's start: its copies are the label copies of `reused` at that budget (the same runs)."""
    lr, passes = choice(study, "label", study.transfer_budget)
    done = [replace(c, arm=sets[0].name) for c in reused
            if c.arm == arm("label", study.transfer_budget) and c.seed in study.transfer_seeds]
    runs = [(t, s) for s in study.transfer_seeds for t in sets[1:]]
    return done + [copy_once(t.name, *copier_dataset(labelled(sp, s, study), t.images, t.answers), s, lr, passes,
                             study, lab) for t, s in tqdm(runs, desc="transfer sets")]


def transfer_rows(copies: list, sets: list, lab: Lab, study: BlackBoxStudy) -> list[dict]:
    """Per transfer set, and first the own student ('no answers'), over the transfer seeds: accuracy, fidelity and
    accuracy on vehicle test images (shares, per seed), and the gains over no answers (paired), on all and on vehicles."""
    arms = by_arm([c for c in copies if c.seed in study.transfer_seeds])
    own = arms[arm("label", OWN)]
    own_vehicles = [accuracy_on(c, lab, VEHICLES) for c in own]
    rows = [{"set": "no answers (own labels)", "acc": [c.acc for c in own], "fid": [c.fid for c in own],
             "vehicles": own_vehicles, "gain": None, "vehicle gain": None}]
    for t in sets:
        cs = arms[t.name]
        vehicles = [accuracy_on(c, lab, VEHICLES) for c in cs]
        rows.append({"set": t.name, "acc": [c.acc for c in cs], "fid": [c.fid for c in cs], "vehicles": vehicles,
                     "gain": interval(stats.paired([c.acc for c in cs], [c.acc for c in own])),
                     "vehicle gain": interval(stats.paired(vehicles, own_vehicles))})
    return rows


def accuracy_on(copy: Copy, lab: Lab, classes) -> float:
    """A copy's accuracy on the lab's test images of these classes (names)."""
    which = torch.isin(lab.labels.cpu(), torch.tensor([data.CLASSES.index(c) for c in classes]))
    return metrics.agreement(copy.pred[which], lab.labels.cpu()[which])


# -- notebook 04b: what limits a copy ------------------------------------------------------------------------------

@replay.cached("04b_cheap_teachers")
def cheap_teachers(cifar: data.CIFAR10, study: BlackBoxStudy, limits: LimitsStudy, device=None) -> dict:
    """Teachers cheaper than the course's, each with a twin (its recipe and images, another seed): {name: [teacher,
    twin]}. quick: student-sized nets on a few labelled images per class at the student recipe; full: teacher-sized."""
    train_set = cifar.subset(limits.quality_train_per_class, None, seed=1)
    x, y = train_set.train_images, train_set.train_labels
    teacher_sized = tuple(limits.quality_widths) == tuple(models.TEACHER_WIDTHS)
    recipe = train.TEACHER_RECIPE if teacher_sized else train.STUDENT_RECIPE
    out = {}
    for passes in tqdm(limits.quality_epochs, desc="cheap teachers, each with a twin"):
        pair = []
        for seed in (7, 8):  # the twin: another seed
            config.set_seed(seed)
            net = models.make_net(limits.quality_widths, whiten_with=x).to(x.device)
            train.fit(net, data.Loader(x, y, batch_size=study.batch_size, seed=seed), cfg=recipe, epochs=passes,
                      verbose=False)
            pair.append(net.eval())
        out[f"{passes:g} passes"] = pair
    return out


def course_twin(cifar: data.CIFAR10, study: BlackBoxStudy, limits: LimitsStudy):
    """The course teacher's twin (notebook 02's recipe on all 50,000 images, seed 1) where the profile trains it
    (seconds on a GPU, hours on a CPU); else None."""
    if not limits.twin_course_teacher:
        return None
    config.set_seed(1)
    twin = models.make_teacher(whiten_with=cifar.train_images).to(cifar.train_images.device)
    train.fit(twin, data.Loader(cifar.train_images, cifar.train_labels, batch_size=study.batch_size, seed=1),
              cfg=train.TEACHER_RECIPE, verbose=False)
    return twin.eval()


@replay.cached("04b_teacher_quality")
def quality_copies(sp: Split, stream_answers: dict, study: BlackBoxStudy, limits: LimitsStudy, lab: Lab,
                   device=None) -> list:
    """Every seed's own student ('own labels', with its logits on its labelled images) and its copy of each teacher
    ({name: label answers to the stream's first `limits.budget` images})."""
    lr, passes = choice(study, "label", limits.budget)
    own_lr, own_passes = choice(study, "label", OWN)
    out = []
    for s in tqdm(limits.seeds, desc="seeds: own student, then a copy of each teacher"):
        own = labelled(sp, s, study)
        out.append(copy_once(arm("label", OWN), *own, s, own_lr, own_passes, study, lab, logits_on=own[0]))
        for name, ans in stream_answers.items():
            x, y = copier_dataset(own, sp.stream[:limits.budget], ans)
            out.append(copy_once(name, x, y, s, lr, passes, study, lab))
    return out


def quality_rows(copies: list, test_answers: dict, lab: Lab, twins: dict) -> list[dict]:
    """One row per teacher ({name: its test answers}): its accuracy, its twin's agreement with it (None without a
    twin), the share of its most frequent answer; per seed, its copies' and the own student's accuracy, agreement
    with it, and how often each gives its exact wrong answer where it is wrong."""
    arms, rows = by_arm(copies), []
    floor = arms[arm("label", OWN)]
    for name, t in test_answers.items():
        same = [metrics.copied_errors(c.pred, t, lab.labels)["same_mistake"] for c in arms[name]]
        rows.append({"teacher": name, "teacher_acc": metrics.agreement(t, lab.labels),
                     "twin_agreement": metrics.agreement(twins[name], t) if twins.get(name) is not None else None,
                     "top_class_share": torch.bincount(t.cpu(), minlength=10).max().item() / len(t),
                     "copy_acc": [c.acc for c in arms[name]], "copy_fid": [metrics.agreement(c.pred, t) for c in arms[name]],
                     "floor_acc": [c.acc for c in floor], "floor_fid": [metrics.agreement(c.pred, t) for c in floor],
                     "copy_same_mistake": same,
                     "floor_same_mistake": [metrics.copied_errors(c.pred, t, lab.labels)["same_mistake"] for c in floor]})
    return rows


@replay.cached("04b_born_again")
def born_again(teachers: list, sp: Split, study: BlackBoxStudy, lab: Lab, images: torch.Tensor | None = None,
               device=None) -> list:
    """A born-again student of each teacher (Copy records with logits on the images they trained on): the same size
    and passes as the copier's own student, trained on its teacher's soft labels (T) alone, from another
    initialisation, at its own learning rate chosen on validation ('born again' in the choices).
    `images`: the teachers' shared training images (default: each seed's labelled set)."""
    lr, passes = born_again_choice(study)
    out = []
    for t in tqdm(teachers, desc="born-again students"):
        x = labelled(sp, t.seed, study)[0] if images is None else images
        c = copy_once("born again", x, copier.to_targets(t.logits, "logits", T=study.T), 100 + t.seed, lr, passes,
                      study, lab)
        out.append(replace(c, seed=t.seed))  # paired with its teacher
    return out


def born_again_choice(study: BlackBoxStudy) -> tuple[float, float | None]:
    """(learning rate, passes) of a born-again student: chosen on validation, else the own student's."""
    c = study.choices.get("born again")
    return (float(c["lr"]), float(c["passes"])) if c else choice(study, "label", OWN)


def ensemble_students(teachers: list, images: torch.Tensor, seeds: tuple, study: BlackBoxStudy, lab: Lab) -> list:
    """Students of the teachers' ensemble (all trained on `images`): the mean of their soft labels (T), one student
    per seed, at a born-again student's learning rate and passes."""
    lr, passes = born_again_choice(study)
    targets = torch.stack([copier.to_targets(t.logits, "logits", T=study.T) for t in teachers]).mean(0)
    return [copy_once("ensemble student", images, targets, 200 + s, lr, passes, study, lab) for s in seeds]


@replay.cached("04b_born_again_T{T:g}")
def born_again_at(teachers: list, born: list, sp: Split, study: BlackBoxStudy, lab: Lab, T: float) -> dict:
    """Born-again students at temperature T instead of study.T (the same teachers, seeds and schedule): the paired
    accuracy difference, new T minus the study's (teachers and born in the same seed order)."""
    warm = born_again.__wrapped__(teachers, sp, replace(study, T=T), lab)
    return stats.paired([c.acc for c in warm], [c.acc for c in born])


@replay.cached("04b_capacity")
def capacity_copies(sp: Split, answers: Answers, study: BlackBoxStudy, limits: LimitsStudy, lab: Lab,
                    device=None) -> list:
    """Teacher-sized copies (the teacher's recipe) of the copier at `limits.budget` label answers, per capacity seed."""
    _, passes = choice(study, "label", limits.budget)
    out = []
    for s in tqdm(limits.capacity_seeds, desc="teacher-sized copies"):
        x, y = copier_dataset(labelled(sp, s, study), sp.stream[:limits.budget], answers.get("label", limits.budget))
        out.append(copy_once("teacher-sized copy", x, y, s, train.TEACHER_RECIPE.lr, passes, study, lab,
                             widths=models.TEACHER_WIDTHS, cfg=train.TEACHER_RECIPE))
    return out


CAPACITY_RUN = "cpu/nb04_capacity_50k.json"  # a committed run: copies of two sizes from 50,000 label answers


def capacity_illustration(run: str = CAPACITY_RUN) -> list[dict]:
    """The committed run's copies (one row per size), labelled with where and how they were measured."""
    record = bench(run)
    if record is None:
        return []
    rows = []
    for size in ("student", "teacher"):
        runs = [r for r in record["runs"] if r["size"] == size]
        rows.append({"copy": f"{size}-sized", "budget": runs[0]["budget"], "seeds": len(runs),
                     "acc": [100 * r["acc"] for r in runs], "fid": [100 * r["fid"] for r in runs],
                     "measured on": f"{record['device']}, {record['epochs']:g} passes, {record['recipe']}'s recipe, "
                                    "no own labels"})
    return rows


def defended(answers: Answers, limits: LimitsStudy) -> dict:
    """{name: (exposure, answers to the stream's first `limits.budget` images)}: the undefended probabilities and the
    two defences (probabilities rounded; a share of label answers deliberately wrong)."""
    b = limits.budget
    return {arm("probs", b): ("probs", answers.get("probs", b)),
            f"probs, {limits.decimals} decimal": ("probs", answers.get("probs", b, decimals=limits.decimals)),
            f"label, {100 * limits.perturb:g}% wrong": ("label", answers.get("label", b, perturb=limits.perturb))}


@replay.cached("04b_defences")
def defence_copies(sp: Split, answers: Answers, study: BlackBoxStudy, limits: LimitsStudy, lab: Lab,
                   device=None) -> list:
    """The copier's copy from each of `defended(answers, limits)`, per seed, at its exposure's validated choices."""
    out = []
    for s in tqdm(limits.seeds, desc="seeds: copies of the defended APIs"):
        for name, (exposure, ans) in defended(answers, limits).items():
            lr, passes = choice(study, exposure, limits.budget)
            x, y = copier_dataset(labelled(sp, s, study), sp.stream[:limits.budget],
                                  copier.to_targets(ans, exposure, T=study.T))
            out.append(copy_once(name, x, y, s, lr, passes, study, lab))
    return out


@replay.cached("04b_labelled")
def labelled_students(sp: Split, study: BlackBoxStudy, limits: LimitsStudy, lab: Lab, device=None) -> list:
    """The copier's route without the API: its own labels plus the stream's first `limits.budget` images labelled
    by hand (their true labels), trained exactly as the label copy of that budget."""
    lr, passes = choice(study, "label", limits.budget)
    out = []
    for s in tqdm(limits.seeds, desc="students on true labels"):
        x, y = copier_dataset(labelled(sp, s, study), sp.stream[:limits.budget], sp.stream_labels[:limits.budget])
        out.append(copy_once("labelled by hand", x, y, s, lr, passes, study, lab))
    return out


def costs(copies: list, study: BlackBoxStudy, limits: LimitsStudy, student_flops: int, teacher_flops: int,
          copy: str | None = None) -> list:
    """Three routes to a student, like with like: own labels only, labelling the budget's images by hand, buying
    answers for them. Per route: accuracy, true labels and queries used, money at the illustrative prices, and
    compute (3 forward passes per training image; the API's forward passes on the queries, paid by its owner).
    `copy`: the arm of the label copies at the budget (default 'label@<budget>')."""
    arms, b, n_own = by_arm(copies), limits.budget, study.labelled_per_class * len(data.CLASSES)
    rows = []
    for name, labels, queries in ((arm("label", OWN), n_own, 0), ("labelled by hand", n_own + b, 0),
                                  (copy or arm("label", b), n_own, b)):
        cs = arms[name]
        rows.append({"route": name, "accuracy": [100 * c.acc for c in cs], "true labels": labels, "queries": queries,
                     "money": labels * limits.label_price + queries * study.price_per_1k / 1000,
                     "training FLOPs": 3 * student_flops * float(np.mean([c.images_seen for c in cs])),
                     "API FLOPs": teacher_flops * queries})
    return rows


# -- readings: what the page prints about the runs, generated from the numbers --------------------------------------

def choices_table(study: BlackBoxStudy) -> list[dict]:
    """The validated choices as rows: arm, learning rate, passes, mean validation accuracy (%)."""
    return [{"copy": a, "lr": c["lr"], "passes": c["passes"], "val": 100 * c["val_acc"]} for a, c in study.choices.items()]


def describe(answers: Answers, sp: Split, lab: Lab, study: BlackBoxStudy) -> list[dict]:
    """What the lab and the copier hold, as rows (measure, value)."""
    label, top = answers.get("label"), torch.softmax(answers.logits, 1).amax(1)
    n = len(label)
    return [{"measure": "the teacher's test accuracy", "value": f"{100 * metrics.agreement(lab.teacher, lab.labels):.1f}% "
                                                                 f"of {len(lab.labels):,d} test images"},
            {"measure": "queries answered", "value": f"{n:,d} in {answers.seconds:.1f} s ({n / answers.seconds:,.0f} "
                                                     f"images/s), {n * study.price_per_1k / 1000:.2f} dollars"},
            {"measure": "answers equal to the true label",
             "value": f"{100 * metrics.agreement(label, sp.stream_labels[:n]):.1f}%"},
            {"measure": "the teacher's median top probability", "value": f"{top.median().item():.4f}"}]


TARGETS = {"gain": 15.0, "share_of_teacher": 0.60}  # notebook 04's declared targets for the primary comparison


def targets(result: dict) -> list[dict]:
    """The declared targets against this run's primary result (results contract of `primary`), one row each."""
    g, f, a = result["primary"], result["fidelity_over_floor"], result["accuracy"]
    share = a["copy"] / a["teacher"]
    return [{"target": f"gain >= +{TARGETS['gain']:g} points, interval above zero",
             "measured": f"{g['mean']:+.1f} [{g['lo']:+.1f}, {g['hi']:+.1f}]",
             "met": "yes" if g["mean"] >= TARGETS["gain"] and g["lo"] > 0 else "no"},
            {"target": "fidelity over the floor, interval above zero",
             "measured": f"{f['mean']:+.1f} [{f['lo']:+.1f}, {f['hi']:+.1f}]", "met": "yes" if f["lo"] > 0 else "no"},
            {"target": f"copy >= {TARGETS['share_of_teacher']:.0%} of the teacher's accuracy",
             "measured": f"{share:.0%} ({a['copy']:.1f}% of {a['teacher']:.1f}%)",
             "met": "yes" if share >= TARGETS["share_of_teacher"] else "no"}]


def records(copies: list) -> list[dict]:
    """The copies as plain rows for a results file (no tensors)."""
    return [{"arm": c.arm, "seed": c.seed, "acc": c.acc, "fid": c.fid, "steps": c.steps, "seconds": c.seconds}
            for c in copies]


def measured(copies: list, study: BlackBoxStudy) -> dict:
    """{exposure: {budget: [accuracy per seed]}} of every exposure@budget arm among the copies."""
    out: dict = {}
    for name, cs in by_arm(copies).items():
        exposure, _, budget = name.partition("@")
        if budget.isdigit() and exposure in server.EXPOSURES:
            out.setdefault(exposure, {})[int(budget)] = [c.acc for c in cs]
    return out


@replay.cached("04_probs_T{T:g}")
def retemper(copies: list, sp: Split, answers: Answers, study: BlackBoxStudy, lab: Lab, T: float,
             seeds: tuple = (0, 1, 2)) -> dict:
    """Probability copies at the smallest budget trained at temperature T instead of study.T (same rate, passes and
    seeds): the paired accuracy difference, new T minus the study's, from `copies`' probability copies."""
    b, warm = study.budgets[0], replace(study, T=T)
    lr, passes = choice(study, "probs", b)
    new = [copy_arm(sp, answers, "probs", b, s, warm, lab, lr=lr, passes=passes) for s in tqdm(seeds, desc=f"T = {T:g}")]
    old = {c.seed: c.acc for c in by_arm(copies)[arm("probs", b)]}
    return stats.paired_summary([c.acc - old[c.seed] for c in new])


# -- notebook 04b's readings ----------------------------------------------------------------------------------------

def quality_teachers(cheap: dict, twin, teacher: nn.Module, answers: Answers, sp: Split, lab: Lab,
                     limits: LimitsStudy) -> tuple[dict, dict, dict]:
    """({name: label answers to the stream's first `limits.budget` images}, {name: test answers}, {name: its twin's
    test answers, or None}) for the cheap teachers and the course teacher (whose stream answers are already bought)."""
    stream = {name: teacher_answers(t, sp.stream[:limits.budget]) for name, (t, _) in cheap.items()}
    test = {name: teacher_answers(t, lab.images) for name, (t, _) in cheap.items()}
    twins = {name: teacher_answers(w, lab.images) for name, (_, w) in cheap.items()}
    stream["course teacher"], test["course teacher"] = answers.get("label", limits.budget), lab.teacher
    twins["course teacher"] = None if twin is None else teacher_answers(twin, lab.images)
    return stream, test, twins


def over_floor(rows: list[dict]) -> list[dict]:
    """Per teacher, paired by seed against the copier's own student (the floor): the copy's accuracy, its fidelity
    to that teacher, and how often it repeats that teacher's exact mistakes (points)."""
    out = []
    for r in rows:
        s = {k: stats.paired(r[f"copy_{k}"], r[f"floor_{k}"]) for k in ("acc", "fid", "same_mistake")}
        out.append({"teacher": r["teacher"], "accuracy": interval(s["acc"]), "fidelity": interval(s["fid"]),
                    "same mistake": interval(s["same_mistake"]), "summary": s["fid"]})
    return out


def born_again_runs() -> list[dict]:
    """The committed born-again runs (bench/born_again.py; any machine), one row per comparison, each labelled
    with the machine and the scale it was measured at."""
    rows = []
    for path in sorted(BENCH_DIR.glob("*/born_again_*.json")):
        record = bench(f"{path.parent.name}/{path.name}")
        where = (f"{record['device']}, {record['per_class']} labelled images per class, {record['epochs']:g} passes, "
                 f"{record['seeds']} seeds")
        rows += [{"comparison": what, "difference": stats.format_interval(record[key]), "measured on": where}
                 for what, key in (("born-again student minus its teacher", "born_again_minus_teacher"),
                                   ("ensemble student minus the mean teacher", "ensemble_student_minus_mean_teacher"))]
    return rows


def capacity_rows(copies: list, student: str = "course teacher") -> list[dict]:
    """This run's copies by size: the student-sized label copies (arm `student`) and any teacher-sized ones."""
    arms = by_arm(copies)
    return [{"copy": size, "seeds": len(arms[name]), "acc": [100 * c.acc for c in arms[name]],
             "fid": [100 * c.fid for c in arms[name]]}
            for size, name in (("student-sized", student), ("teacher-sized", "teacher-sized copy")) if name in arms]


def capacity_reading(copies: list, student: str = "course teacher") -> str:
    """The section's sentence: the teacher-sized copies' fidelity against the student-sized ones (paired by seed),
    or, where the profile trains none, what the student-sized copies reached."""
    arms = by_arm(copies)
    if "teacher-sized copy" not in arms:
        fid = 100 * float(np.mean([c.fid for c in arms[student]]))
        return (f"This profile trains no teacher-sized copy; the student-sized copies agree with the teacher on "
                f"{fid:.1f}% of the test images.")
    s = paired(copies, "teacher-sized copy", student, "fid")
    return stats.reading(s, above="The teacher-sized copies agree with the teacher {interval} more than the student-sized.",
                         below="The teacher-sized copies agree with the teacher less than the student-sized ({interval}).",
                         neither="These seeds cannot tell the teacher-sized copies' fidelity from the student-sized ({interval}).")


def defence_rows(copies: list, limits: LimitsStudy, undefended_label: str = "course teacher") -> list[dict]:
    """Per defended API: the copies' accuracy and fidelity, and the accuracy change against the undefended API of
    the same exposure, paired by seed."""
    arms, b = by_arm(copies), limits.budget
    plain = {"probs": arm("probs", b), "label": undefended_label}
    rows = []
    for name in (f"probs, {limits.decimals} decimal", f"label, {100 * limits.perturb:g}% wrong"):
        base = plain[name.split(",")[0]]
        s = paired(copies, name, base)
        rows.append({"defence": name, "against": base, "acc": [100 * c.acc for c in arms[name]],
                     "fid": [100 * c.fid for c in arms[name]], "change": interval(s), "summary": s})
    return rows


def original_cost(teacher: nn.Module, meta: dict) -> list[dict]:
    """What the original's final training run took, as one row: labelled images, FLOPs (3 forward passes per image
    seen), and its measured seconds with the device they were measured on."""
    epochs = float(meta.get("epochs", train.TEACHER_RECIPE.epochs))
    return [{"the original": "the teacher's final training run", "true labels": 50_000,
             "training FLOPs": 3 * models.flops_per_image(teacher) * 50_000 * epochs,
             "seconds": meta.get("train_seconds"), "measured on": meta.get("device")}]
