"""Notebook 03's study, defined once: its settings per profile, its data, its four students per seed, the
comparisons it reads, and the learning-rate choice on validation. The notebook and bench/distill_study.py call it.

The primary comparison: a student that learns from only `labelled_per_class` labelled images per class (the
teacher saw 5,000 per class), with hard labels or with the blended loss, paired by seed. Each seed draws its own
labelled images, initial weights and batch order, shared by that seed's students. Choices (each student's learning
rate) are made on validation images drawn from CIFAR-10's test split, which neither the teacher nor any student
trains on; the rest of the test split measures each student once.
"""
from __future__ import annotations

import copy
import math
import time
import warnings
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from . import config, data, losses, metrics, models, numerics, replay, stats, train
from . import results
from .results import BENCH_DIR

ARMS = ("hard", "blended", "label smoothing", "shuffled teacher")
PRIMARY = ("blended", "hard")  # declared before the design met a test image: blended minus hard, test accuracy
CONTROLS = (("blended", "label smoothing"), ("blended", "shuffled teacher"), ("label smoothing", "shuffled teacher"))


@dataclass
class Study:
    labelled_per_class: int = 20  # labelled training images per class a student learns from (the teacher saw 5,000)
    epochs: int = 40  # passes over them, the same for every student
    batch_size: int = 100  # images per step
    seeds: int = 8  # paired seeds: seed s draws the labelled images, initial weights and batch order of its students
    val_per_class: int = 200  # test-split images per class set aside for choices (no model trains on them)
    test_per_class: int | None = 200  # test-split images per class that measure (None: all the rest)
    lr: dict = field(default_factory=dict)  # each student's peak learning rate at batch 1024, chosen on validation
    T: float = 4.0  # temperature of the blended loss (and of the label-smoothing control)
    alpha: float = 0.1  # weight of the hard-label term


STUDIES = {
    "quick": Study(),  # under 5 minutes on a 2-core CPU: 8 seeds x 4 students of 80 steps
    "full": Study(seeds=20, val_per_class=500, test_per_class=None),  # one GPU: more seeds, every other test image
}


def lr_choice_file(profile: str) -> Path:
    profile = config.study_profile(profile)
    return BENCH_DIR / ("cpu" if profile == "quick" else "gpu") / f"distill_study_lr_{profile}.json"


def get_study(profile: str) -> Study:
    """The study of this profile, with each student's learning rate as chosen on validation (bench JSON).
    Refuses to run without a chosen rate for every student: one shared rate would confound the loss with the step.
    The full profile, until its own choice is committed, borrows the quick profile's and says so."""
    profile = config.study_profile(profile)
    path = lr_choice_file(profile)
    if profile == "full" and not path.exists() and lr_choice_file("quick").exists():
        warnings.warn(f"no learning rates chosen on the full profile's validation yet ({path.name}): each student "
                      f"uses the rate chosen on the quick profile's validation. To choose them for this profile: "
                      f"python bench/distill_study.py --profile full", stacklevel=2)
        path = lr_choice_file("quick")
    chosen = results.read_json(path, needs=("chosen_lr",))["chosen_lr"] if path.exists() else {}
    missing = [arm for arm in ARMS if arm not in chosen]
    if missing:
        raise FileNotFoundError(f"no learning rate chosen on validation for {missing} in the {profile} profile "
                                f"(expected in {path}). Choose them first: python bench/distill_study.py "
                                f"--profile {profile} (on the machine that runs this profile).")
    return replace(STUDIES[profile], lr={arm: float(chosen[arm]) for arm in ARMS})


# -- data ---------------------------------------------------------------------------------------------------------

@dataclass
class Split:
    """The study's images: the pool each seed draws its labelled set from (CIFAR-10's training split, which the
    teacher learned), and validation and test images from the test split (no model trains on them)."""
    pool_images: torch.Tensor
    pool_labels: torch.Tensor
    val_images: torch.Tensor
    val_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    source: str


def split(cifar: data.CIFAR10, study: Study) -> Split:
    rest, val_x, val_y = cifar.set_aside("test", study.val_per_class, seed=7)
    measured = rest.subset(None, study.test_per_class, seed=0)
    return Split(cifar.train_images, cifar.train_labels, val_x, val_y, measured.test_images, measured.test_labels,
                 cifar.source)


def labelled(pool: Split, study: Study, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Seed `seed`'s labelled images and labels: `labelled_per_class` of every class, drawn at random."""
    idx = data.balanced_indices(pool.pool_labels, study.labelled_per_class, seed=seed).to(pool.pool_labels.device)
    return pool.pool_images[idx], pool.pool_labels[idx]


def new_student(seed: int, images: torch.Tensor) -> models.Net:
    """The student every arm of this seed starts from: same seed, same initial weights."""
    config.set_seed(1000 + seed)
    return models.make_student(whiten_with=images).to(images.device, memory_format=data.MEMORY_FORMAT)


def loader(images: torch.Tensor, targets: torch.Tensor, batch_size: int, seed: int) -> data.Loader:
    """Seed `seed`'s batches: order, flips and shifts are the same for every student of the seed."""
    return data.Loader(images, targets, batch_size=batch_size, seed=seed)


# -- the teacher's answers, recorded once per seed ----------------------------------------------------------------

class RecordedTeacher:
    """A frozen teacher's answers to one seed's stream of batches, recorded once and replayed in order to every
    student trained on that stream (each sees the same augmented batches, so the answers repeat exactly).

    It also knows which image each answer belongs to, so `shuffled()` can give every image one fixed permutation
    of its wrong classes. Call rewind() before each run; it raises when the last run fed other batches.
    """

    def __init__(self, teacher: nn.Module, images: torch.Tensor, study: Study, seed: int):
        stream = loader(images, torch.arange(len(images), device=images.device), study.batch_size, seed)
        self.logits, self.index, self.signatures = [], [], []  # one (B, C), (B,), (B,) tensor per batch
        teacher.eval()
        with torch.no_grad(), numerics.autocast(images.device):
            for _ in range(study.epochs):
                for x, i in stream:
                    self.logits.append(teacher(x).float())
                    self.index.append(i.cpu())
                    self.signatures.append(self._signature(x))
        self.n_images, self.seed, self.orders, self.position, self.mismatches = len(images), seed, None, 0, None

    @staticmethod
    def _signature(x: torch.Tensor) -> torch.Tensor:
        return x.float().flatten(1)[:, ::7].sum(1)  # (B,): cheap, and differs between batches

    def shuffled(self) -> RecordedTeacher:
        """The same answers with each image's wrong classes permuted by one permutation drawn for that image (from
        the seed) and kept for the whole run: the same top class and softness, and no class structure."""
        C = self.logits[0].shape[1]
        view = copy.copy(self)
        view.orders = torch.rand(self.n_images, C - 1, generator=torch.Generator().manual_seed(self.seed)).argsort(1)
        view.position, view.mismatches = 0, None
        return view

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.position >= len(self.logits):
            raise RuntimeError(f"RecordedTeacher holds {len(self.logits)} batches and was asked for more: train "
                               "for the study's epochs, and call rewind() before each run.")
        diff = (~torch.isclose(self.signatures[self.position], self._signature(x), rtol=1e-4, atol=1e-3)).sum()
        self.mismatches = diff if self.mismatches is None else self.mismatches + diff  # checked at rewind: no sync
        out = self.logits[self.position]
        if self.orders is not None:
            out = shuffle_wrong_classes(out, self.orders[self.index[self.position]].to(out.device))
        self.position += 1
        return out

    def eval(self) -> RecordedTeacher:
        return self

    def rewind(self) -> None:
        """Back to the first batch; raises if the last run's batches differed from the recorded ones."""
        bad = 0 if self.mismatches is None else int(self.mismatches)
        self.position, self.mismatches = 0, None
        if bad:
            raise RuntimeError(f"RecordedTeacher replayed answers for {bad} images that differed from the ones it "
                               "recorded: give every run the seed's loader (same seed, batch size and images).")

    def mean_entropy(self, T: float) -> float:
        """The mean entropy (nats) of the recorded answers at temperature T: how soft the student's targets are."""
        return torch.cat([losses.entropy(losses.softmax_with_temperature(z, T)) for z in self.logits]).mean().item()


def shuffle_wrong_classes(logits: torch.Tensor, order: torch.Tensor) -> torch.Tensor:
    """Each row's top logit stays in place; its other C - 1 logits move among the other classes by `order`
    (B, C - 1), a permutation per row. The same top class and the same softness at every T, other classes."""
    B, C = logits.shape
    top = logits.argmax(1, keepdim=True)  # (B, 1)
    classes = torch.arange(C, device=logits.device).expand(B, C)
    others = classes[classes != top].view(B, C - 1)  # (B, C-1) the non-top classes, in order
    out = logits.clone()
    out.scatter_(1, others, logits.gather(1, others.gather(1, order)))
    return out


# -- the four students --------------------------------------------------------------------------------------------

def smoothing_for_entropy(target_entropy: float, num_classes: int = 10) -> float:
    """The label-smoothing epsilon whose targets have this entropy (nats): the true class gets
    1 - eps + eps / C, every other class eps / C (eps = 1: uniform). Found by bisection on [0, 1]."""
    C = num_classes
    if not 0.0 <= target_entropy <= math.log(C):
        raise ValueError(f"target_entropy must lie in [0, log({C}) = {math.log(C):.3f}] nats, got {target_entropy!r}.")

    def H(eps: float) -> float:
        top, rest = 1 - eps + eps / C, eps / C
        return -(top * math.log(top) + (C - 1) * (rest * math.log(rest) if rest > 0 else 0.0))

    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if H(mid) < target_entropy else (lo, mid)
    return (lo + hi) / 2


def smoothed_labels(labels: torch.Tensor, smoothing: float, num_classes: int = 10) -> torch.Tensor:
    """(B, C) targets: 1 - smoothing + smoothing / C on the true class, smoothing / C on each other class."""
    q = torch.full((len(labels), num_classes), smoothing / num_classes, device=labels.device)
    return q.scatter_(1, labels[:, None], 1 - smoothing + smoothing / num_classes)


def smoothed_label_loss(student_logits: torch.Tensor, labels: torch.Tensor, smoothing: float, T: float,
                        alpha: float) -> torch.Tensor:
    """The blended loss with a teacher that knows only the label: its target at T is smoothed_labels (label
    smoothing, applied through the same T^2 KL at the same T as the teacher's answers)."""
    q = smoothed_labels(labels, smoothing, student_logits.shape[1])
    label_teacher = T * q.clamp_min(1e-30).log()  # logits whose softmax at T is q
    return losses.distillation_loss(student_logits, label_teacher, labels, T=T, alpha=alpha)


def matched_smoothing(answers: RecordedTeacher, T: float) -> float:
    """The label smoothing as soft as the teacher's recorded answers at T (the same mean entropy)."""
    return smoothing_for_entropy(answers.mean_entropy(T), answers.logits[0].shape[1])


def target_rows(answers: RecordedTeacher, labels: torch.Tensor, study: Study) -> list[dict]:
    """The soft targets at T for the first image of the seed's first batch, as rows {target, <class>: probability}
    for show.table: the teacher's, the shuffled teacher's, label smoothing's."""
    i, z = int(answers.index[0][0]), answers.logits[0][:1]
    eps = matched_smoothing(answers, study.T)
    targets = {"teacher": losses.softmax_with_temperature(z, study.T),
               "shuffled teacher": losses.softmax_with_temperature(
                   shuffle_wrong_classes(z, answers.shuffled().orders[i:i + 1].to(z.device)), study.T),
               f"label smoothing (eps {eps:.2f})": smoothed_labels(labels[i:i + 1], eps, z.shape[1])}
    return [{"target": name, **dict(zip(data.CLASSES, p[0].tolist()))} for name, p in targets.items()]


def arm_spec(arm: str, study: Study, answers: RecordedTeacher):
    """(loss_fn, teacher or None) of a student: the only things that differ between a seed's students."""
    blended = partial(losses.distillation_loss, T=study.T, alpha=study.alpha)
    if arm == "hard":
        return losses.hard_loss, None
    if arm == "blended":
        return blended, answers
    if arm == "label smoothing":  # as soft as the teacher's answers at T, on average
        return partial(smoothed_label_loss, smoothing=matched_smoothing(answers, study.T), T=study.T, alpha=study.alpha), None
    if arm == "shuffled teacher":
        return blended, answers.shuffled()
    raise ValueError(f"arm must be one of {ARMS}, got {arm!r}.")


def train_arm(arm: str, seed: int, images: torch.Tensor, labels: torch.Tensor, study: Study,
              answers: RecordedTeacher, lr: float | None = None) -> tuple[models.Net, train.History]:
    """Seed `seed`'s student of `arm`, trained with train.fit on the seed's labelled images, batches and recorded
    teacher answers: (student in eval mode, its History)."""
    loss_fn, teacher = arm_spec(arm, study, answers)
    student = new_student(seed, images)
    if teacher is not None:
        teacher.rewind()  # every run replays the seed's batches from the first
    history = train.fit(student, loader(images, labels, study.batch_size, seed), loss_fn, cfg=train.STUDENT_RECIPE,
                        teacher=teacher, epochs=study.epochs, lr=lr or study.lr[arm], verbose=False)
    if teacher is not None:
        teacher.rewind()  # and fed the recorded batches
    return student, history


@dataclass
class Student:
    """One trained student, measured once on the test images."""
    arm: str
    seed: int
    test_acc: float  # share of the test images it classifies right
    top2: torch.Tensor  # (N, 2) its first and second choice per test image
    train_seconds: float
    images_seen: int


@replay.cached("03_students")
def train_students(study: Study, pool: Split, teacher: nn.Module, arms=ARMS, device=None) -> list[Student]:
    """Every seed's students of `arms`, measured on the test images (the demo profile replays the quick run)."""
    out = []
    with tqdm(total=study.seeds * len(arms), desc="students") as bar:
        for seed in range(study.seeds):
            images, labels = labelled(pool, study, seed)
            answers = RecordedTeacher(teacher, images, study, seed)
            for arm in arms:
                student, history = train_arm(arm, seed, images, labels, study, answers)
                top2 = train.predict(student, pool.test_images).topk(2, dim=1).indices.to(torch.uint8)
                out.append(Student(arm, seed, (top2[:, 0] == pool.test_labels).float().mean().item(), top2,
                                   history.train_seconds, history.images_seen))
                bar.update(1)
    return out


# -- reading the students -----------------------------------------------------------------------------------------

def accuracies(students: list[Student]) -> dict[str, list[float]]:
    """{arm: test accuracy per seed, in seed order}."""
    out = {}
    for s in sorted(students, key=lambda s: s.seed):
        out.setdefault(s.arm, []).append(s.test_acc)
    return out


def compare(students: list[Student], a: str, b: str) -> dict:
    """stats.paired_summary of arm a minus arm b, test accuracy, paired by seed."""
    acc = accuracies(students)
    return stats.paired(acc[a], acc[b])


def comparisons(students: list[Student]) -> dict[str, dict]:
    """The primary comparison and the controls' comparisons, {"a - b": paired summary}."""
    return {f"{a} - {b}": compare(students, a, b) for a, b in (PRIMARY, *CONTROLS)}


def summary_rows(students: list[Student], teacher_acc: float) -> list[dict]:
    """One row per student kind for show.table: test accuracy (%) over the seeds, and the teacher's."""
    rows = [{"student": arm, "test accuracy (%)": round(100 * float(np.mean(a)), 1), "lowest seed": round(100 * min(a), 1),
             "highest seed": round(100 * max(a), 1), "seeds": len(a)} for arm, a in accuracies(students).items()]
    return rows + [{"student": "(teacher)", "test accuracy (%)": round(100 * teacher_acc, 1), "lowest seed": None,
                    "highest seed": None, "seeds": None}]


def comparison_rows(summaries: dict[str, dict]) -> list[dict]:
    """One row per comparison for show.table: the mean paired difference and its 95% interval, in points."""
    return [{"comparison": name, "mean (points)": f"{100 * g['mean']:+.2f}",
             "95% interval": f"[{100 * g['lo']:+.2f}, {100 * g['hi']:+.2f}]", "seeds": g["n"]} for name, g in summaries.items()]


READINGS = {  # comparison: (what an interval above zero shows, what one below zero shows)
    "blended - hard": ("distillation gains accuracy here", "distillation costs accuracy here"),
    "blended - label smoothing": ("the teacher gives more than equally soft targets",
                                  "equally soft targets without a teacher do better"),
    "blended - shuffled teacher": ("the teacher's class structure adds accuracy beyond its softness per image",
                                   "the teacher's class structure costs accuracy"),
    "label smoothing - shuffled teacher": ("a structure that is consistent but wrong costs accuracy",
                                           "a structure that is consistent but wrong helps"),
}


def readings(summaries: dict[str, dict]) -> list[str]:
    """One sentence per comparison, chosen by its interval (stats.reading) and filled with its numbers."""
    return [("PRIMARY " if name == "blended - hard" else "") + f"{name}: " + stats.reading(
        summaries[name], above="{interval}: " + above + ".", below="{interval}: " + below + ".",
        neither="{interval}: these seeds cannot tell whether " + above + ".") for name, (above, below) in READINGS.items()]


def second_choice(students: list[Student], teacher_top2: torch.Tensor) -> dict[str, list[float]]:
    """{arm: per seed, the share of test images whose second choice is the teacher's second choice, among the
    images where the student's first choice is the teacher's}: does a student rank the other classes as its teacher
    does? (Chance: 1 in 9.)"""
    out = {}
    t = teacher_top2.to(torch.uint8).cpu()
    for s in sorted(students, key=lambda s: s.seed):
        same_first = s.top2[:, 0].cpu() == t[:, 0]
        out.setdefault(s.arm, []).append((s.top2[same_first, 1].cpu() == t[same_first, 1]).float().mean().item())
    return out


def second_choice_rows(second: dict[str, list[float]]) -> list[dict]:
    """show.table rows of second_choice: the mean share (%) per student kind, and its paired difference from hard."""
    return [{"student": arm, "second choice = teacher's (%)": round(100 * float(np.mean(v)), 1),
             "minus hard's, paired": "" if arm == "hard" else stats.format_interval(stats.paired(v, second["hard"]))}
            for arm, v in second.items()]


def test_sampling_se(students: list[Student], test_labels: torch.Tensor, a: str, b: str) -> float:
    """The standard error (a share) that drawing these test images adds to the mean difference a - b: every seed
    is measured on the same images, so it is the spread over images of each image's difference in correctness,
    averaged over seeds, divided by the square root of the number of images."""
    right = {}
    for s in students:
        right.setdefault(s.arm, []).append((s.top2[:, 0].cpu() == test_labels.cpu()).double())
    per_image = torch.stack(right[a]).mean(0) - torch.stack(right[b]).mean(0)  # (N,)
    return per_image.std().item() / math.sqrt(len(per_image))


def cost_rows(nets: dict[str, nn.Module], images: torch.Tensor) -> list[dict]:
    """show.table rows of each net's parameters, MFLOPs per image and measured inference images/s on its device."""
    return [{"model": name, "params": f"{models.count_params(m):,d}", "MFLOPs/image": round(models.flops_per_image(m) / 1e6, 1),
             "images/s": round(metrics.throughput(m, images))} for name, m in nets.items()]


def record(study: Study, pool: Split, students: list[Student], teacher_acc: float | None = None) -> dict:
    """What a run measured, for results.save and the bench JSON: the sizes, the seeds, every accuracy, the primary
    comparison (points, with the test images' standard error) and the controls'."""
    g, acc = compare(students, *PRIMARY), accuracies(students)
    return {"data": pool.source, "n_labelled": 10 * study.labelled_per_class, "n_val": len(pool.val_labels),
            "n_test": len(pool.test_labels), "teacher_acc": teacher_acc, "study": asdict(study),
            "seeds": sorted({s.seed for s in students}), "accuracy": acc,
            "primary": {"name": "blended - hard, test accuracy points", "mean": 100 * g["mean"], "lo": 100 * g["lo"],
                        "hi": 100 * g["hi"], "n_seeds": g["n"], "excludes_zero": stats.excludes_zero(g),
                        "test_sampling_se": 100 * test_sampling_se(students, pool.test_labels, *PRIMARY)},
            "comparisons": {f"{a} - {b}": compare(students, a, b) for a, b in CONTROLS if a in acc and b in acc}}


# -- the learning rates, chosen on validation ---------------------------------------------------------------------

def validation_runs(study: Study, pool: Split, teacher: nn.Module, lrs: dict[str, list[float]], seeds) -> list[dict]:
    """Each student kind in `lrs` at each of its learning rates, over `seeds` (not the notebook's), measured on the
    validation images: [{arm, lr, seed, val_acc (NaN: diverged), seconds}]."""
    runs = []
    with tqdm(total=len(seeds) * sum(len(v) for v in lrs.values()), desc="validation runs") as bar:
        for seed in seeds:
            images, labels = labelled(pool, study, seed)
            answers = RecordedTeacher(teacher, images, study, seed)
            for arm, rates in lrs.items():
                for lr in rates:
                    t0 = time.perf_counter()
                    try:
                        student, _ = train_arm(arm, seed, images, labels, study, answers, lr=lr)
                        val = train.evaluate(student, pool.val_images, pool.val_labels)
                    except FloatingPointError:
                        val = float("nan")  # diverged: the rate is too high
                    runs.append({"arm": arm, "lr": lr, "seed": seed, "val_acc": val,
                                 "seconds": round(time.perf_counter() - t0, 1)})
                    bar.update(1)
    return runs


def choose_lr(runs: list[dict]) -> tuple[dict, dict]:
    """({arm: {lr: mean validation accuracy}}, {arm: the best lr}); a diverged run counts as 0."""
    means = {}
    for arm in dict.fromkeys(r["arm"] for r in runs):
        rates = sorted({r["lr"] for r in runs if r["arm"] == arm})
        means[arm] = {lr: float(np.mean([0.0 if math.isnan(r["val_acc"]) else r["val_acc"]
                                         for r in runs if r["arm"] == arm and r["lr"] == lr])) for lr in rates}
    return means, {arm: max(row, key=row.get) for arm, row in means.items()}


def lr_rows(profile: str) -> list[dict]:
    """The committed learning-rate grid as rows for show.table: mean validation accuracy (%) per rate ("-": not
    tried), the chosen rate, and whether it lies inside the grid (a rate on the grid's edge may not be the best)."""
    record = results.read_json(lr_choice_file(profile), needs=("mean_val_acc", "chosen_lr"))
    rates = sorted({lr for row in record["mean_val_acc"].values() for lr in row}, key=float)
    rows = []
    for arm, row in record["mean_val_acc"].items():
        tried = sorted(row, key=float)
        chosen = f"{float(record['chosen_lr'][arm]):g}"
        rows.append({"student": arm, **{f"lr {r}": round(100 * row[r], 1) if r in row else None for r in rates},
                     "chosen": chosen, "inside the grid": "no, on its edge" if chosen in (tried[0], tried[-1]) else "yes"})
    return rows
