"""Notebook 07's study, defined once: exposure bias measured against the world's truth, and students distilled from
one teacher with the same budget of teacher-scored words: off-policy, on-policy (GKD), mixed, on-policy reverse KL.

    teacher, _ = load_teacher(device)
    results = run(get_study("quick"), teacher)       # one StudentResult per student and seed
    paired(results, "kl_own", "on_policy")           # on-policy minus off-policy, paired over seeds

The truth is the world's grammar (corpus.parse): it scores a student's own text up to its first impossible word
(a slip); after a slip only the teacher still has an opinion.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm

from . import checkpoints, config, corpus, lm, lm_study, replay, stats

TEACHER = lm.GPTConfig(d=96, layers=3, heads=4)  # the lab's model: notebook 06's quick teacher size
TEACHER_RECIPE = {"dialogues": 50_000, "steps": 2_000, "batch_size": 64, "lr": 3e-3, "seed": 0}  # the world's text
STUDENTS = ("off_policy", "on_policy", "mixed", "reverse_kl")


@dataclass(frozen=True)
class OnPolicyStudy:
    student: lm.GPTConfig  # every student: this size
    warmup_steps: int  # every student of a seed starts from the same model: this many steps on the world's text ...
    steps: int  # ... then this many steps of its own kind ...
    batch_size: int  # ... of this many dialogues; the teacher scores every word of each, once
    lr: float  # AdamW, decaying linearly to 0
    lam: float  # the mixed student: the share of its batches that it writes itself (GKD's lambda)
    seeds: int  # paired: a seed fixes initial weights, the teacher's text, the coin and the samples
    eval_dialogues: int  # each student writes this many (its own text); as many of the world's dialogues
    students: tuple = STUDENTS


STUDIES = {
    # lr: chosen on validation seeds (bench/onpolicy.py feasibility; the full profile's is not validated yet)
    "quick": OnPolicyStudy(student=lm.GPTConfig(d=32, layers=1, heads=2), warmup_steps=200, steps=200,
                           batch_size=32, lr=0.024, lam=0.5, seeds=5, eval_dialogues=1_000),
    "full": OnPolicyStudy(student=lm.GPTConfig(d=48, layers=2, heads=4), warmup_steps=400, steps=400,
                          batch_size=64, lr=0.012, lam=0.5, seeds=10, eval_dialogues=5_000),
}


def get_study(profile: str) -> OnPolicyStudy:
    profile = config.study_profile(profile)
    if profile not in STUDIES:
        raise ValueError(f"no on-policy study for profile {profile!r}: choose one of {tuple(STUDIES)}.")
    return STUDIES[profile]


def share_of(student: str, study: OnPolicyStudy) -> float:
    """The share of a student's batches that it writes itself."""
    shares = {"off_policy": 0.0, "on_policy": 1.0, "mixed": study.lam, "reverse_kl": 1.0}
    if student not in shares:
        raise ValueError(f"unknown student {student!r}: choose one of {STUDENTS}.")
    return shares[student]


def divergence_of(student: str):
    """The per-word loss a student minimises: forward KL(teacher || student), or reverse KL(student || teacher)."""
    return lm.token_reverse_kl if student == "reverse_kl" else lm.token_distillation_loss


# ----------------------------------------------------------------------------- the teacher

def train_teacher(device, recipe: dict = TEACHER_RECIPE, progress: bool = True) -> tuple[lm.TinyGPT, lm.FitRecord]:
    """The lab's model: next-word cross-entropy on the world's dialogues (no persona: the truth it learns is the
    truth every student is scored against)."""
    text = corpus.to_batch(corpus.sample(recipe["dialogues"], seed=1), with_truth=False)
    teacher = lm_study.new_model(TEACHER, recipe["seed"], device)
    x, y = text.inputs.to(device), text.targets.to(device)
    record = lm.fit(teacher, x, lambda z, rows: lm.token_cross_entropy(z, y[rows]), recipe["steps"],
                    recipe["batch_size"], recipe["lr"], recipe["seed"], desc="teacher", progress=progress)
    return teacher.eval(), record


def load_teacher(device) -> tuple[lm.TinyGPT, dict]:
    """The shipped teacher (data/pretrained/lm_teacher.pt, weights only) and its provenance."""
    return checkpoints.load_lm(checkpoints.PRETRAINED_LM_TEACHER, device)


# ----------------------------------------------------------------------------- writing and judging

def bos(n: int, device) -> torch.Tensor:
    """(n, 1) prompts: the start mark only, so a model writes whole dialogues."""
    return torch.full((n, 1), corpus.INDEX[corpus.BOS], device=device)


def write(model: lm.TinyGPT, n: int, seed: int, chunk: int = 1_000) -> torch.Tensor:
    """n dialogues the model writes from <bos> at T = 1, as ids (n, CONTEXT) padded after <eos>; repeatable by seed."""
    device = next(model.parameters()).device
    g = torch.Generator().manual_seed(seed)
    out = torch.full((n, corpus.CONTEXT), corpus.INDEX[corpus.PAD], device=device)
    for i in range(0, n, chunk):
        ids = lm.generate_cached(model, bos(min(chunk, n - i), device), corpus.CONTEXT - 1, generator=g)
        out[i:i + len(ids), :ids.shape[1]] = ids
    return out


@dataclass
class Judged:
    """Texts read by the world: the truth at every position up to the first word the world would never write."""
    inputs: torch.Tensor  # (N, L) word ids
    truth: torch.Tensor  # (N, L, V) the true distribution of the next word, where judged
    judged: torch.Tensor  # (N, L) True where the prefix is the world's (up to and including a derailment)
    derailed_at: torch.Tensor  # (N,) the position of the first impossible word, -1 where none
    after: torch.Tensor  # (N, L) True where the text goes on after its first impossible word (no truth there)


def judge(texts: list[list[str]]) -> Judged:
    """Parse each text with the grammar (corpus.parse) and lay the truth out as tensors."""
    batch = corpus.to_batch(texts, with_truth=False)
    N, L = batch.inputs.shape
    truth = torch.zeros(N, L, len(corpus.VOCAB))
    judged = torch.zeros(N, L, dtype=torch.bool)
    derailed_at = torch.full((N,), -1)
    for i, words in enumerate(texts):
        p = corpus.parse(words)
        for j, dist in enumerate(p.truth[:len(words) - 1]):  # position j predicts word j + 1
            truth[i, j, corpus.encode(list(dist))] = torch.tensor(list(dist.values()))
            judged[i, j] = True
        if p.derailed_at is not None:
            derailed_at[i] = p.derailed_at
    after = (batch.targets != lm.IGNORE) & ~judged
    return Judged(batch.inputs, truth, judged, derailed_at, after)


def world(n: int, seed: int) -> Judged:
    """n of the world's own dialogues, with the truth the grammar recorded as it wrote them."""
    batch = corpus.to_batch(corpus.sample(n, seed))
    return Judged(batch.inputs, batch.truth, batch.targets != lm.IGNORE, torch.full((n,), -1),
                  torch.zeros_like(batch.targets, dtype=torch.bool))


@torch.no_grad()
def kl_by_word(model: lm.TinyGPT, j: Judged) -> torch.Tensor:
    """(N, L) KL(truth || model) in nats at every judged position (0 elsewhere)."""
    logq = lm.logits_of(model, j.inputs.to(next(model.parameters()).device)).log_softmax(-1).cpu()  # (N, L, V)
    kl = (j.truth * (torch.log(j.truth.clamp_min(1e-30)) - logq)).sum(-1)
    return torch.where(j.judged, kl, torch.zeros(()))


@torch.no_grad()
def kl_to_teacher(model: lm.TinyGPT, teacher: lm.TinyGPT, inputs: torch.Tensor) -> torch.Tensor:
    """(N, L) KL(teacher || model) in nats at every position: the only reference where the world has no truth."""
    device = next(model.parameters()).device
    logp = lm.logits_of(teacher, inputs.to(device)).log_softmax(-1)
    logq = lm.logits_of(model, inputs.to(device)).log_softmax(-1)
    return (logp.exp() * (logp - logq)).sum(-1).cpu()


# ----------------------------------------------------------------------------- the students

def distil(student: lm.TinyGPT, teacher: lm.TinyGPT, teacher_text: torch.Tensor, share: float, divergence,
           steps: int, batch_size: int, lr: float, seed: int, progress: bool = False, desc: str = "steps") -> dict:
    """Notebook 07's loop: at every step a batch of dialogues, written by the student (with probability `share`) or
    the next batch of `teacher_text` (ids (steps * batch_size, CONTEXT)); the teacher scores every word, and the
    student steps towards its distributions with `divergence`. Returns the words scored and the seconds."""
    device = next(student.parameters()).device
    g = torch.Generator().manual_seed(seed)  # the coin and the student's samples
    opt = torch.optim.AdamW(student.parameters(), lr=lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1 - step / steps)
    scored, written, t0 = 0, 0, time.perf_counter()
    for step in tqdm(range(steps), desc=desc, leave=False, disable=not progress):
        if torch.rand((), generator=g) < share:  # sample: the student writes the batch
            ids = lm.generate_cached(student, bos(batch_size, device), corpus.CONTEXT - 1, generator=g)
            written += 1
        else:  # off-policy: the next batch the teacher wrote
            ids = teacher_text[step * batch_size:(step + 1) * batch_size]
        batch = corpus.to_batch(lm.texts(ids), with_truth=False)
        inputs, targets = batch.inputs.to(device), batch.targets.to(device)
        with torch.no_grad():  # score: the teacher's distribution at every word
            teacher_logits = teacher(inputs)
        student.train()  # step: towards the teacher, word by word
        loss = divergence(student(inputs), teacher_logits, targets)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        opt.step()
        sched.step()
        scored += int((targets != lm.IGNORE).sum())
        if not math.isfinite(loss.item()):
            raise FloatingPointError(f"the loss became {loss.item()} at step {step}: lower the learning rate "
                                     f"(it is {lr:g}).")
    return {"words_scored": scored, "on_policy_batches": written, "seconds": time.perf_counter() - t0}


def teacher_text(teacher: lm.TinyGPT, study: OnPolicyStudy, seed: int) -> torch.Tensor:
    """The off-policy text of a seed: steps * batch_size dialogues the teacher writes, each used once."""
    return write(teacher, study.steps * study.batch_size, seed=50_000 + seed)


def warm_start(seed: int, study: OnPolicyStudy, device, progress: bool = False) -> lm.TinyGPT:
    """The student every student of a seed starts from: seed-fixed initial weights, then warmup_steps of next-word
    cross-entropy on the world's own dialogues (notebook 06's loop, lm.fit), as GKD starts its students from a
    model fine-tuned on the task's data. No teacher is involved."""
    model = lm_study.new_model(study.student, 1_000 + seed, device)
    data = corpus.to_batch(corpus.sample(study.warmup_steps * study.batch_size, seed=30_000 + seed), with_truth=False)
    x, y = data.inputs.to(device), data.targets.to(device)
    lm.fit(model, x, lambda z, rows: lm.token_cross_entropy(z, y[rows]), study.warmup_steps, study.batch_size,
           study.lr, seed, desc="warm start", progress=progress)
    return model.eval()


def train_student(name: str, seed: int, start: lm.TinyGPT, teacher: lm.TinyGPT, text: torch.Tensor,
                  study: OnPolicyStudy, progress: bool = False) -> tuple[lm.TinyGPT, dict]:
    """One student: a copy of the seed's warm start, then the study's steps of its kind, on the teacher's text
    (off-policy batches) or on its own samples."""
    model = copy.deepcopy(start)
    record = distil(model, teacher, text.to(next(teacher.parameters()).device), share_of(name, study),
                    divergence_of(name), study.steps, study.batch_size, study.lr, seed, progress=progress, desc=name)
    return model.eval(), record


@dataclass
class StudentResult:
    student: str
    seed: int
    kl_own: float  # nats/word: KL(truth || student) on the student's own text, up to its first impossible word
    kl_world: float  # nats/word: on the world's text (what teacher forcing optimises)
    derail_rate: float  # share of the student's own dialogues that leave the world
    kl_after_slip: float  # nats/word: KL(teacher || student) on its own text after its first impossible word
    share_after_slip: float  # the share of its own text's total KL to the teacher that lies after its slips
    words_scored: int  # the teacher-scored words of its second phase
    on_policy_batches: int
    seconds: float  # training (second phase)


def measure(model: lm.TinyGPT, teacher: lm.TinyGPT, world_text: Judged, n: int, seed: int) -> tuple[dict, Judged]:
    """What a student does: it writes n dialogues from <bos> and the world reads them; and how it reads the world's.
    Returns ({kl_own, kl_world, derail_rate, kl_after_slip, share_after_slip}, its own text judged)."""
    own = judge(lm.texts(write(model, n, seed=70_000 + seed)))
    to_teacher = kl_to_teacher(model, teacher, own.inputs)
    before, after = to_teacher[own.judged], to_teacher[own.after]
    return {"kl_own": kl_by_word(model, own)[own.judged].mean().item(),
            "kl_world": kl_by_word(model, world_text)[world_text.judged].mean().item(),
            "derail_rate": (own.derailed_at >= 0).float().mean().item(),
            "kl_after_slip": after.mean().item() if len(after) else math.nan,
            "share_after_slip": (after.sum() / (before.sum() + after.sum())).item()}, own


def run(study: OnPolicyStudy, teacher: lm.TinyGPT, seeds=None, students=None,
        progress: bool = True) -> list[StudentResult]:
    """Every student of every seed, trained and measured: one StudentResult each."""
    seeds = list(range(study.seeds) if seeds is None else seeds)
    students = list(study.students if students is None else students)
    world_text = world(study.eval_dialogues, seed=2)
    results = []
    bar = tqdm(total=len(seeds) * len(students), desc="students", disable=not progress)
    for seed in seeds:
        text = teacher_text(teacher, study, seed)
        start = warm_start(seed, study, next(teacher.parameters()).device)
        for name in students:
            model, record = train_student(name, seed, start, teacher, text, study)
            measured, _ = measure(model, teacher, world_text, study.eval_dialogues, seed)
            results.append(StudentResult(name, seed, **measured, **record))
            bar.update()
    bar.close()
    return results


@replay.cached("07_students")
def all_students(study: OnPolicyStudy, teacher: lm.TinyGPT) -> list[StudentResult]:
    """Notebook 07's run: every student of every seed of the study (run), replayed in the demo profile."""
    return run(study, teacher)


def paired(results: list[StudentResult], metric: str, student: str, baseline: str = "off_policy") -> dict:
    """stats.paired_summary of `student` minus `baseline` in `metric`, seed by seed."""
    by = {(r.student, r.seed): getattr(r, metric) for r in results}
    seeds = sorted(s for (n, s) in by if n == student and (baseline, s) in by)
    if not seeds:
        raise ValueError(f"no seed has both {student!r} and {baseline!r} in these results.")
    return stats.paired_summary([by[(student, s)] - by[(baseline, s)] for s in seeds])


# ----------------------------------------------------------------------------- exposure bias, by position

@dataclass
class Exposure:
    """One off-policy student's own text against the world's, position by position (position p predicts word p+1)."""
    kl_own: float  # nats/word, KL(truth || student) on its own text up to its first impossible word
    kl_world: float  # on the world's text
    derail_rate: float  # share of its own dialogues that leave the world
    teacher_derail_rate: float  # the teacher's own dialogues, the same measure
    kl_teacher_before: float  # KL(teacher || student) on its own text, up to its first impossible word
    kl_teacher_after: float  # ... after it, where the world has no truth
    share_after: float  # the share of its own text's total distance to the teacher that lies after a slip
    on_track: list  # on_track[i]: share of its dialogues still in the world after writing i + 1 words
    teacher_on_track: list
    kl_own_by_position: list
    own_words_by_position: list
    kl_world_by_position: list
    world_words_by_position: list
    kl_after_by_position: list
    after_words_by_position: list
    examples: list  # a few of its dialogues that leave the world, the first impossible word in [brackets]


def _by_position(kl: torch.Tensor, keep: torch.Tensor) -> tuple[list, list]:
    counts = keep.sum(0)  # (L,)
    means = torch.where(counts > 0, (kl * keep).sum(0) / counts.clamp_min(1), torch.full_like(kl[0], math.nan))
    return means.tolist(), counts.tolist()


def _on_track(j: Judged) -> list:
    L = j.inputs.shape[1]
    d = j.derailed_at.unsqueeze(1)  # (N, 1)
    words = torch.arange(1, L + 1).unsqueeze(0)  # (1, L)
    return ((d < 0) | (d > words)).float().mean(0).tolist()


def _marked(words: list, at: int) -> str:
    return " ".join(f"[{w}]" if i == at else w for i, w in enumerate(words))


@replay.cached("07_exposure")
def exposure(teacher: lm.TinyGPT, study: OnPolicyStudy, seed: int = 0, examples: int = 4,
             progress: bool = True) -> Exposure:
    """Train the off-policy student of `seed` (the study's warm start, then its steps on the teacher's text) and
    read its own text, the world's and the teacher's own, word by word."""
    device = next(teacher.parameters()).device
    start = warm_start(seed, study, device, progress=progress)
    model, _ = train_student("off_policy", seed, start, teacher, teacher_text(teacher, study, seed), study, progress)
    world_text = world(study.eval_dialogues, seed=2)
    measured, own = measure(model, teacher, world_text, study.eval_dialogues, seed)
    teacher_own = judge(lm.texts(write(teacher, study.eval_dialogues, seed=80_000 + seed)))
    to_teacher = kl_to_teacher(model, teacher, own.inputs)
    before, after = to_teacher[own.judged], to_teacher[own.after]
    kl_own_pos, own_n = _by_position(kl_by_word(model, own), own.judged)
    kl_world_pos, world_n = _by_position(kl_by_word(model, world_text), world_text.judged)
    kl_after_pos, after_n = _by_position(to_teacher, own.after)
    texts = lm.texts(own.inputs)
    derailed = [i for i in range(len(texts)) if own.derailed_at[i] >= 0][:examples]
    return Exposure(measured["kl_own"], measured["kl_world"], measured["derail_rate"],
                    (teacher_own.derailed_at >= 0).float().mean().item(), before.mean().item(),
                    after.mean().item() if len(after) else math.nan, measured["share_after_slip"], _on_track(own),
                    _on_track(teacher_own),
                    kl_own_pos, own_n, kl_world_pos, world_n, kl_after_pos, after_n,
                    [_marked(texts[i], int(own.derailed_at[i])) for i in derailed])


# ----------------------------------------------------------------------------- forward and reverse KL, in one picture

BUMP_WORDS = tuple(str(n) for n in range(10))  # a next word among ten, say the answer to a sum
BUMP_TEACHER = (0.005, 0.05, 0.40, 0.05, 0.005, 0.005, 0.04, 0.40, 0.04, 0.005)  # two peaks, at 2 and 7


def fit_bump(direction: str, seed: int, teacher=BUMP_TEACHER, steps: int = 200, lr: float = 0.1) -> list:
    """A student that can only be one bump, q(v) ~ exp(-(v - centre)^2 / (2 width^2)), fitted to a teacher's
    next-word distribution by gradient descent on KL(teacher || student) ("forward") or KL(student || teacher)
    ("reverse"), from a seeded random start. Returns its probabilities."""
    if direction not in ("forward", "reverse"):
        raise ValueError(f"direction is 'forward' or 'reverse', got {direction!r}.")
    p = torch.tensor(teacher, dtype=torch.float64)
    v = torch.arange(len(p), dtype=torch.float64)
    g = torch.Generator().manual_seed(seed)
    centre = (torch.rand((), generator=g, dtype=torch.float64) * (len(p) - 1)).requires_grad_()
    log_width = torch.tensor(math.log(0.5), dtype=torch.float64, requires_grad=True)  # starts narrow
    opt = torch.optim.Adam([centre, log_width], lr=lr)
    for _ in range(steps):
        log_q = (-(v - centre) ** 2 / (2 * log_width.exp() ** 2)).log_softmax(0)
        q = log_q.exp()
        loss = (p * (p.log() - log_q)).sum() if direction == "forward" else (q * (log_q - p.log())).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return log_q.exp().detach().tolist()


# ----------------------------------------------------------------------------- tables, readings, the record

def per_student(results: list[StudentResult], metrics=("kl_own", "kl_world", "derail_rate", "kl_after_slip")) -> dict:
    """{student: {metric: [value per seed, in seed order]}}, the students in the study's order."""
    names = [n for n in STUDENTS if any(r.student == n for r in results)]
    return {n: {m: [getattr(r, m) for r in sorted(results, key=lambda r: r.seed) if r.student == n] for m in metrics}
            for n in names}


def student_rows(results: list[StudentResult]) -> list[dict]:
    """One row per student: seed means of each measure, and the words the teacher scored."""
    rows = []
    for name, values in per_student(results, ("kl_own", "kl_world", "derail_rate", "kl_after_slip",
                                              "words_scored")).items():
        rows.append({"student": name.replace("_", "-"), **{k: sum(v) / len(v) for k, v in values.items()}})
    return rows


def exposure_reading(e: Exposure) -> str:
    """What section 3 of notebook 07 shows, in words generated from its numbers."""
    gap = e.kl_own - e.kl_world
    return (f"**In this run:** {e.derail_rate:.0%} of the off-policy student's own dialogues leave the world "
            f"(the teacher's own: {e.teacher_derail_rate:.1%}). Up to its first slip, its KL to the truth is "
            f"{e.kl_own:.3f} nats/word on its own text and {e.kl_world:.3f} on the world's: a gap of {gap:+.3f}. "
            f"After a slip it is {e.kl_teacher_after:.2f} nats/word from its teacher, against "
            f"{e.kl_teacher_before:.3f} before; {e.share_after:.0%} of its distance to the teacher on its own text "
            "lies after its slips.")


def record(results: list[StudentResult], primary_metric: str, exposure_: Exposure | None = None) -> dict:
    """What notebook 07 saves (results.save): the primary (on-policy minus off-policy in `primary_metric`), and per
    student the seed means and per-seed values of every measure."""
    s = paired(results, primary_metric, "on_policy")
    out = {"primary": {"name": f"on_policy - off_policy, {primary_metric}", "mean": s["mean"], "lo": s["lo"],
                       "hi": s["hi"], "n_seeds": s["n"], "diffs": s["diffs"]},
           "students": {name: {**{m: sum(v) / len(v) for m, v in values.items()}, "per_seed": values}
                        for name, values in per_student(results, ("kl_own", "kl_world", "derail_rate", "kl_after_slip",
                                                                  "share_after_slip", "words_scored")).items()}}
    if exposure_ is not None:
        out["exposure"] = {k: v for k, v in vars(exposure_).items() if not isinstance(v, list)}
    return out
