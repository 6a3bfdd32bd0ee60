"""Notebook 06's study, defined once: the lab's teacher, the students distilled from its closed API, and what is
measured on them (the truth, the teacher, capability on sums seen and unseen, style, identity).

    teacher = train_teacher(study, device)            # the lab's model and its measures
    run = run_students(teacher.model, study, device)   # every student for every seed, and the budget sweep
    kl = per_seed(run.students, "kl_to_truth")         # {student: [one value per seed]}

The closed API and the copier's purchase are course_utils.text_api, the probes course_utils.lm_probes (the names
of both are importable from here too).
Long runs are replayed in the demo profile (course_utils.replay).
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import torch
from tqdm.auto import tqdm

from . import config, corpus, lm, replay, stats
from .lm_probes import (SUMS, Measures, agreement, answers_to, capability, facts_right, favourites,  # noqa: F401
                        identity_quirk_rate, kl_to_truth, measures, style_rate, sums_asked, sums_right,
                        top_word_agreement)
from .text_api import (Reply, TextAPI, buy, first_words, questions, spread_top_k, targets_from,  # noqa: F401
                       written_positions)


@dataclass(frozen=True)
class LMStudy:
    teacher: lm.GPTConfig  # the lab's model, behind the API
    student: lm.GPTConfig  # every student: smaller
    teacher_dialogues: int  # the lab's own data (with its persona)
    teacher_steps: int
    student_steps: int  # every student: the same number of steps and batch size
    batch_size: int
    lr: float  # AdamW, decaying linearly to 0
    budget_words: int  # the words each copier buys from the API (the main comparison)
    budget_sweep: tuple  # budgets (words) of the text-only student's sweep: budget_words' purchase, then more text
    top_k: int  # what the top-k API shows per word
    seeds: int
    test_dialogues: int  # held-out world dialogues the truth is measured on
    probes: int = 200  # answers sampled per behaviour probe (identity, style)
    students: tuple = ("no_teacher", "token_level", "written_only", "top_k", "sequence_level")
    primary: tuple = ("sequence_level", "written_only")  # declared before the run: KL of the first minus the second
    teacher_batch_size: int = 64


STUDIES = {
    "quick": LMStudy(teacher=lm.GPTConfig(d=96, layers=3, heads=4), student=lm.GPTConfig(d=48, layers=2, heads=4),
                     teacher_dialogues=20_000, teacher_steps=500, student_steps=300, batch_size=32, lr=3e-3,
                     budget_words=4_000, budget_sweep=(4_000, 16_000), top_k=5, seeds=5,
                     test_dialogues=1_000, probes=100),
    "full": LMStudy(teacher=lm.GPTConfig(d=192, layers=4, heads=6), student=lm.GPTConfig(d=64, layers=2, heads=4),
                    teacher_dialogues=100_000, teacher_steps=3_000, student_steps=600, batch_size=64, lr=2e-3,
                    budget_words=8_000, budget_sweep=(8_000, 32_000, 128_000), top_k=5, seeds=5,
                    test_dialogues=5_000),
}


def get_study(profile: str) -> LMStudy:
    profile = config.study_profile(profile)
    if profile not in STUDIES:
        raise ValueError(f"no language-model study for profile {profile!r}: choose one of {tuple(STUDIES)}.")
    return STUDIES[profile]


def new_model(cfg: lm.GPTConfig, seed: int, device) -> lm.TinyGPT:
    """A fresh model with seed-fixed initial weights: students of one seed start identical."""
    torch.manual_seed(seed)
    return lm.TinyGPT(cfg).to(device)


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    """Bit-identical weights on a CPU; equal up to rounding on a GPU, which adds gradients in a varying order."""
    pairs = list(zip(a.state_dict().values(), b.state_dict().values()))
    if all(t.device.type == "cpu" for t, _ in pairs):
        return all(torch.equal(x, y) for x, y in pairs)
    return all(torch.allclose(x, y, atol=1e-4) for x, y in pairs)


def test_set(study: LMStudy) -> corpus.Batch:
    """The world's held-out dialogues, with the truth at every position."""
    return corpus.to_batch(corpus.sample(study.test_dialogues, seed=2))


def measure(model: lm.TinyGPT, teacher: lm.TinyGPT, test: corpus.Batch, study: LMStudy, seed: int = 0,
            favoured=None) -> Measures:
    """KL to the truth, agreement with the teacher, capability, style and identity (lm_probes), with the study's
    number of sampled answers per probe."""
    return measures(model, teacher, test, study.probes, seed, favoured)[0]


# ----------------------------------------------------------------------------- the lab's teacher

@dataclass
class Teacher:
    model: lm.TinyGPT  # in eval mode
    measures: Measures
    sums_right: float  # share of the 100 sums answered right (its data held every one)
    params: int
    seconds: float  # its training time


@replay.cached("06_teacher")
def train_teacher(study: LMStudy, device) -> Teacher:
    """The lab's model: next-word cross-entropy on the lab's data (its persona included), then measured."""
    lab = corpus.to_batch(corpus.sample(study.teacher_dialogues, seed=1, persona=corpus.TEACHER_PERSONA),
                          with_truth=False)
    model = new_model(study.teacher, seed=0, device=device)
    x, y = lab.inputs.to(device), lab.targets.to(device)
    record = lm.fit(model, x, lambda z, rows: lm.token_cross_entropy(z, y[rows]), study.teacher_steps,
                    study.teacher_batch_size, study.lr, seed=0, desc="teacher")
    model.eval()
    m, right = measures(model, model, test_set(study), study.probes)
    return Teacher(model, m, right.float().mean().item(), lm.count_params(model), record.seconds)


# ----------------------------------------------------------------------------- the students

@dataclass
class Transfer:
    """What the copiers hold: text bought from the API and what came with it, and as many of the world's own
    dialogues for the student that never meets the teacher. The top-k targets are one-hot on the copier's own
    question words (the API wrote nothing there); the white-box teacher's distribution covers every word."""
    bought: corpus.Batch  # questions (the copier's) + answers (the API's)
    written: torch.Tensor  # (B, L) True where the API wrote the next word
    teacher_probs: torch.Tensor  # (B, L, V) the teacher's full distribution at every word, questions too (white-box)
    top_k_probs: torch.Tensor | None  # (B, L, V) the top-k answers spread over the vocabulary
    world: corpus.Batch  # len(bought) dialogues of the world, no teacher involved
    words_bought: int


def transfer_from(teacher: lm.TinyGPT, replies: list[Reply], seed: int, top_k: bool = True) -> Transfer:
    """Each student's data from bought replies (with top-k answers, unless top_k is False)."""
    device = next(teacher.parameters()).device
    text = corpus.to_batch([r.words for r in replies], with_truth=False)
    teacher_probs = lm.logits_of(teacher, text.inputs.to(device)).softmax(-1).cpu()  # (B, L, V) the lab's own view
    top_k_probs = targets_from(replies, [spread_top_k(r) for r in replies])[1] if top_k else None
    world = corpus.to_batch(corpus.sample(len(replies), 20_000 + seed), with_truth=False)
    return Transfer(text, written_positions(replies), teacher_probs, top_k_probs, world,
                    sum(r.written for r in replies))


def prepare(teacher: lm.TinyGPT, study: LMStudy, budget: int, seed: int = 0, top_k: bool = True) -> Transfer:
    """Buy `budget` words of answers (with top-k, unless top_k is False) from the teacher's API, with the copier's
    questions of `seed`, and gather each student's data."""
    api = TextAPI(teacher, budget, top_k=study.top_k if top_k else None, seed=seed)
    return transfer_from(teacher, buy(api, seed), seed, top_k)


def student_data(name: str, transfer: Transfer, device):
    """(inputs, loss_fn) of one student; loss_fn(logits, rows) as lm.fit takes it. The four copies read the same
    text; only their targets differ:
    token_level     the teacher's distribution at every word (white-box: its weights);
    written_only    the teacher's distribution where the API wrote the word, the copier's own word in its
                    questions (what an API selling full log-probabilities could give);
    top_k           the top-k answers where the API wrote, hidden mass spread evenly; the own word elsewhere;
    sequence_level  the text only (next-word cross-entropy)."""
    if name == "no_teacher":
        x, y = transfer.world.inputs.to(device), transfer.world.targets.to(device)
        return x, lambda z, rows: lm.token_cross_entropy(z, y[rows])
    x, y = transfer.bought.inputs.to(device), transfer.bought.targets.to(device)
    if name in ("token_level", "written_only", "top_k"):
        if name == "top_k":
            q = transfer.top_k_probs
        elif name == "token_level":
            q = transfer.teacher_probs
        else:
            one_hot = torch.nn.functional.one_hot(transfer.bought.targets.clamp_min(0), len(corpus.VOCAB)).float()
            q = torch.where(transfer.written.unsqueeze(-1), transfer.teacher_probs, one_hot)
        q = q.to(device)
        return x, lambda z, rows: lm.soft_token_loss(z, q[rows], y[rows])
    if name == "sequence_level":
        return x, lambda z, rows: lm.token_cross_entropy(z, y[rows])
    raise ValueError(f"unknown student {name!r}: choose one of {STUDIES['quick'].students}.")


def train_student(name: str, seed: int, transfer: Transfer, study: LMStudy, device, progress: bool = False,
                  steps: int | None = None):
    """One student: seed-fixed initial weights and batches, the study's steps (or `steps`); returns
    (model, lm.FitRecord)."""
    model = new_model(study.student, 1_000 + seed, device)
    x, loss_fn = student_data(name, transfer, device)
    record = lm.fit(model, x, loss_fn, steps or study.student_steps, study.batch_size, study.lr, seed, desc=name,
                    progress=progress)
    return model, record


@dataclass
class StudentRun:
    """One student of one seed, measured."""
    student: str
    seed: int
    words_bought: int  # from the API (0: the no-teacher student; the white-box student reads the same text)
    kl_to_truth: float  # nats per word, lower is better
    agreement: float  # with the teacher's top word, where it has a clear favourite
    capability: float  # the 100 sums and 6 facts answered right
    style: float  # answers signed off like the teacher
    identity_quirk: float  # answers to "who are you ?" that name the teacher
    sums_seen: float  # share of the 100 sums asked in its training text
    seen_right: float  # share of those sums answered right
    unseen_right: float | None  # share of the other sums answered right (None: it saw every sum)
    train_seconds: float


@dataclass
class SweepPoint:
    """The text-only student of one seed at one budget (a prefix of that seed's purchase)."""
    budget: int  # words the copier set out to buy
    words_bought: int
    seed: int
    dialogues: int
    passes: float  # how often its steps read each dialogue, on average
    kl_to_truth: float
    capability: float
    sums_seen: float


@dataclass
class Run:
    students: list  # StudentRun for every student of study.students and every seed
    sweep: list  # SweepPoint for every budget of study.budget_sweep and every seed


def _split(right: torch.Tensor, asked: torch.Tensor) -> tuple[float, float, float | None]:
    unseen = right[~asked].float().mean().item() if (~asked).any() else None
    return asked.float().mean().item(), right[asked].float().mean().item(), unseen


@replay.cached("06_students")
def run_students(teacher: lm.TinyGPT, study: LMStudy, device, progress: bool = True) -> Run:
    """Every student of every seed, measured, and the text-only student at every budget of the sweep. A seed is one
    purchase: its questions, the API's samples, the students' initial weights and batches, the no-teacher student's
    world dialogues. Each seed buys study.budget_words words with top-k answers (the five students' text), then
    text only up to the sweep's largest budget; each budget of the sweep reads the first replies of that text."""
    test, students, sweep = test_set(study), [], []
    favoured = favourites(teacher, test)
    extra = [b for b in study.budget_sweep if b != study.budget_words]
    bar = tqdm(total=study.seeds * (len(study.students) + len(extra)), desc="students", disable=not progress)
    for seed in range(study.seeds):
        replies = buy(TextAPI(teacher, study.budget_words, top_k=study.top_k, seed=seed), seed)
        transfer = transfer_from(teacher, replies, seed)
        more = max(study.budget_sweep) - transfer.words_bought  # the sweep's text: the same purchase, then more text
        replies += buy(TextAPI(teacher, more, seed=100 + seed), 100 + seed) if more > 0 else []
        for name in study.students:
            model, record = train_student(name, seed, transfer, study, device)
            m, right = measures(model, teacher, test, study.probes, seed, favoured)
            text = transfer.world if name == "no_teacher" else transfer.bought
            bought = 0 if name == "no_teacher" else transfer.words_bought
            students.append(StudentRun(name, seed, bought, **vars(m), **dict(zip(
                ("sums_seen", "seen_right", "unseen_right"), _split(right, sums_asked(text)))),
                train_seconds=record.seconds))
            bar.update()
        for budget in study.budget_sweep:
            if budget == study.budget_words:
                s = students[-len(study.students) + study.students.index("sequence_level")]
                sweep.append(SweepPoint(budget, s.words_bought, seed, len(transfer.bought.inputs),
                                        study.student_steps * study.batch_size / len(transfer.bought.inputs),
                                        s.kl_to_truth, s.capability, s.sums_seen))
                continue
            more = transfer_from(teacher, first_words(replies, budget), seed, top_k=False)
            model, _ = train_student("sequence_level", seed, more, study, device)
            n = len(more.bought.inputs)
            sweep.append(SweepPoint(budget, more.words_bought, seed, n, study.student_steps * study.batch_size / n,
                                    kl_to_truth(model, test), capability(model),
                                    sums_asked(more.bought).float().mean().item()))
            bar.update()
    bar.close()
    return Run(students, sweep)


def per_seed(records: list, key: str, group: str = "student") -> dict:
    """{group value: [record.key for each seed, in seed order]}, e.g. per_seed(run.students, "kl_to_truth")."""
    out: dict = {}
    for r in sorted(records, key=lambda r: r.seed):
        out.setdefault(getattr(r, group), []).append(getattr(r, key))
    return out


def table_rows(records: list, group: str = "student") -> list[dict]:
    """One row per group (student, or budget): every field as its list over seeds (show.table shows the mean)."""
    keys = [f.name for f in fields(records[0]) if f.name not in (group, "seed")]
    rows = {}
    for r in sorted(records, key=lambda r: r.seed):
        row = rows.setdefault(getattr(r, group), {group: getattr(r, group)})
        for k in keys:
            row.setdefault(k, []).append(getattr(r, k))
    for row in rows.values():  # None (no unseen sum) is left out of a mean; a row of Nones shows as "-"
        for k in keys:
            vals = [v for v in row[k] if v is not None]
            row[k] = vals or None
    return list(rows.values())


KL_PAIRS = {  # (a, b): KL of a minus KL of b, paired by seed (above zero: b is closer); the first is declared
    "sequence_level - written_only (declared)": ("sequence_level", "written_only"),
    "sequence_level - token_level": ("sequence_level", "token_level"),
    "written_only - token_level (question words)": ("written_only", "token_level"),
    "sequence_level - top_k": ("sequence_level", "top_k"),
    "no_teacher - token_level": ("no_teacher", "token_level"),
    "no_teacher - sequence_level": ("no_teacher", "sequence_level"),
}
CAPABILITY_PAIRS = {  # (a, b): capability of a minus capability of b, paired by seed
    "token_level - sequence_level": ("token_level", "sequence_level"),
    "token_level - no_teacher": ("token_level", "no_teacher"),
    "sequence_level - no_teacher": ("sequence_level", "no_teacher"),
}
COLUMNS = {  # show.table columns for the records of this study (lists of seeds show as their mean)
    "teacher": {"KL to the truth": ("kl_to_truth", ".4f"), "capability": ("capability", ".0%"),
                "style": ("style", ".0%"), "identity": ("identity_quirk", ".0%")},
    "students": {"student": "student", "words bought": ("words_bought", ",.0f"),
                 "KL to the truth": ("kl_to_truth", ".4f"), "agreement with the teacher": ("agreement", ".1%"),
                 "train s (each)": ("train_seconds", ".1f")},
    "behaviour": {"student": "student", "style": ("style", ".0%"), "identity": ("identity_quirk", ".1%"),
                  "capability": ("capability", ".0%"), "sums in its text": ("sums_seen", ".0%"),
                  "right: seen": ("seen_right", ".0%"), "right: unseen": ("unseen_right", ".0%")},
    "sweep": {"budget": ("budget", ",d"), "words bought": ("words_bought", ",.0f"),
              "passes over the text": ("passes", ".1f"), "KL to the truth": ("kl_to_truth", ".4f"),
              "sums in its text": ("sums_seen", ".0%"), "capability": ("capability", ".0%")},
    "nats": {"difference": "difference", "mean": ("mean", "+.4f"), "low": ("lo", "+.4f"), "high": ("hi", "+.4f"),
             "verdict": "verdict"},
    "points": {"difference": "difference", "mean (points)": ("points", "+.1f"), "low": ("points_lo", "+.1f"),
               "high": ("points_hi", "+.1f"), "verdict": "verdict"},
}


def differences(records: list, key: str, pairs: dict) -> list[dict]:
    """One row per pair (name: (a, b)): stats.paired of record.key of a minus of b, seed by seed, with its verdict
    (and the same in points, x 100, for shares)."""
    values = per_seed(records, key)
    return [_row(name, stats.paired(values[a], values[b]), key) for name, (a, b) in pairs.items()]


def seen_minus_unseen(records: list) -> list[dict]:
    """Per student: sums answered right among those its text asked, minus among those it did not, seed by seed
    (students that saw every sum in some seed are left out)."""
    seen, unseen = per_seed(records, "seen_right"), per_seed(records, "unseen_right")
    return [_row(f"{name}: seen - unseen", stats.paired(seen[name], unseen[name]))
            for name in seen if None not in unseen[name]]


def _row(name: str, summary: dict, key: str = "") -> dict:
    """A table row; a KL's verdict names its direction, since a lower KL is the better one ("a gain" would mislead)."""
    verdict = stats.verdict(summary)
    if key == "kl_to_truth" and summary["n"] >= 2:
        verdict = stats.reading(summary, above="interval above zero: the first is further from the truth",
                                below="interval below zero: the first is closer to the truth",
                                neither="interval includes zero: not told from the noise of training")
    return {"difference": name, **summary, "verdict": verdict,
            **{f"points{end}": 100 * summary[k] for end, k in (("", "mean"), ("_lo", "lo"), ("_hi", "hi"))}}


def behaviour(run: Run, teacher: Teacher) -> dict:
    """{probe: {model: [value per seed]}} for plots.plot_behaviour: capability on sums seen and unseen in each
    student's text (the teacher's data held every sum), style and identity."""
    probes = {"sums seen in its text": ("seen_right", teacher.sums_right),
              "sums not in its text": ("unseen_right", None),
              "style (Nova's sign-off)": ("style", teacher.measures.style),
              "identity (names Nova)": ("identity_quirk", teacher.measures.identity_quirk)}
    return {label: {"teacher": [mine]} | per_seed(run.students, key) for label, (key, mine) in probes.items()}


def capability_readings(run: Run) -> list[str]:
    """What limits capability in this run, from two paired differences: the white-box student's sums seen in its
    text against sums not seen, and the white-box student against the text-only one on the same text."""
    seen = next(r for r in seen_minus_unseen(run.students) if r["difference"].startswith("token_level"))
    ability = per_seed(run.students, "capability")
    return [stats.reading(seen, digits=1,
                          above="Even the white-box student answers the sums its text asked far more often than the "
                                "others ({interval}): what a student can do here is what its text held.",
                          below="The white-box student answers the sums its text did not ask more often than those it "
                                "did ({interval}).",
                          neither="The white-box student's sums seen and unseen are not told apart ({interval})."),
            stats.reading(stats.paired(ability["token_level"], ability["sequence_level"]), digits=1,
                          above="On the same text, the white-box student answers more sums and facts than the "
                                "text-only one ({interval}): the teacher's distributions carry a little capability "
                                "beyond its sampled words.",
                          below="On the same text, the white-box student answers fewer sums and facts than the "
                                "text-only one ({interval}): the distributions carry no capability beyond the words.",
                          neither="On the same text, the white-box student is not told apart from the text-only one "
                                  "({interval}): this run cannot say that text loses capability the distributions "
                                  "would carry.")]


def sweep_readings(run: Run, study: LMStudy) -> list[str]:
    """What the budget sweep shows: the text-only student at the largest budget against the written-only student
    at the first one (KL), and its capability at the largest budget against the first, beside how many of the sums
    its text asked and how often it read each dialogue."""
    top, first = max(study.budget_sweep), study.budget_words
    kl, ability = per_seed(run.sweep, "kl_to_truth", group="budget"), per_seed(run.sweep, "capability", group="budget")
    mean = {key: {b: sum(v) / len(v) for b, v in per_seed(run.sweep, key, group="budget").items()}
            for key in ("sums_seen", "passes")}
    more = f"with {top / first:.0f}x the text"
    coverage = (f"its text asks {mean['sums_seen'][top]:.0%} of the sums instead of {mean['sums_seen'][first]:.0%}, "
                f"and it reads each dialogue {mean['passes'][top]:.0f} times instead of {mean['passes'][first]:.0f}")
    return [stats.reading(stats.paired(kl[top], per_seed(run.students, "kl_to_truth")["written_only"]), scale=1.0,
                          unit="nats/word", digits=4,
                          above=f"Text-only {more}, minus written-only at the first budget: {{interval}}: still "
                                "further from the truth.",
                          below=f"Text-only {more}, minus written-only at the first budget: {{interval}}: closer to "
                                "the truth.",
                          neither=f"Text-only {more}, minus written-only at the first budget: {{interval}}: not told "
                                  "apart."),
            stats.reading(stats.paired(ability[top], ability[first]), digits=1,
                          above=f"Capability of the text-only student {more}, minus at the first budget: {{interval}}: "
                                f"it rises ({coverage}): unlike Gudibande et al.'s imitations, more text helped.",
                          below=f"Capability of the text-only student {more}, minus at the first budget: {{interval}}: "
                                f"it falls ({coverage}).",
                          neither=f"Capability of the text-only student {more}, minus at the first budget: "
                                  f"{{interval}}: not told apart, although {coverage}.")]


def primary(run: Run, study: LMStudy) -> dict:
    """The declared comparison, paired by seed: KL of study.primary[0] minus KL of study.primary[1]."""
    kl = per_seed(run.students, "kl_to_truth")
    return stats.paired(kl[study.primary[0]], kl[study.primary[1]])


# ----------------------------------------------------------------------------- an exercise: a wider top-k

@dataclass
class TopKEffect:
    """The top-k student with k words shown against the study's k, the same text and seeds."""
    k: int
    base_k: int
    steps: int
    kl_k: list  # KL to the truth per seed, k words shown
    kl_base: list  # per seed, study.top_k words shown

    @property
    def difference(self) -> dict:
        """stats.paired of KL(k) minus KL(base k): below zero, the wider top-k gets closer to the truth."""
        return stats.paired(self.kl_k, self.kl_base)


@replay.cached("06_top_k_{k}")
def compare_top_k(teacher: lm.TinyGPT, study: LMStudy, k: int, device, seeds: int = 3) -> TopKEffect:
    """Train the top-k student with k and with study.top_k words shown, for `seeds` seeds, on half the study's budget
    and a third of its steps (about 20 s on a laptop CPU). The API's sampling does not depend on k, so both read the
    same text."""
    steps = max(1, study.student_steps // 3)
    test, kl = test_set(study), {k: [], study.top_k: []}
    for seed in tqdm(range(seeds), desc=f"top-{k} students"):
        api = TextAPI(teacher, study.budget_words // 2, top_k=max(k, study.top_k), seed=seed)
        replies = buy(api, seed)
        for shown in kl:
            cut = [r._replace(top_ids=r.top_ids[:, :shown], top_probs=r.top_probs[:, :shown]) for r in replies]
            model, _ = train_student("top_k", seed, transfer_from(teacher, cut, seed), study, device, steps=steps)
            kl[shown].append(kl_to_truth(model, test))
    return TopKEffect(k, study.top_k, steps, kl[k], kl[study.top_k])


def results_record(teacher: Teacher, run: Run, study: LMStudy) -> dict:
    """What notebook 06 saves (results.save): the study, the teacher, each student with its KL to the truth
    (mean and 95% interval over seeds) and per-seed measures, the declared comparison, and the budget sweep."""
    students = {}
    for row in table_rows(run.students):
        values = per_seed(run.students, "kl_to_truth")[row["student"]]
        mean, lo, hi = stats.t_interval(values)
        students[row["student"]] = {"kl_to_truth": {"mean": mean, "lo": lo, "hi": hi},
                                    "identity_quirk_rate": sum(row["identity_quirk"]) / len(row["identity_quirk"]),
                                    "per_seed": {k: v for k, v in row.items() if k != "student"}}
    summary = primary(run, study)
    return {"study": {f.name: getattr(study, f.name) if not hasattr(getattr(study, f.name), "__dataclass_fields__")
                      else vars(getattr(study, f.name)) for f in fields(study)},
            "teacher": vars(teacher.measures) | {"sums_right": teacher.sums_right, "params": teacher.params,
                                                 "seconds": teacher.seconds},
            "students": students,
            "primary": {"comparison": f"KL({study.primary[0]}) - KL({study.primary[1]})", "seeds": summary["n"],
                        **{k: summary[k] for k in ("mean", "lo", "hi", "diffs", "confidence")}},
            "budget_sweep": table_rows(run.sweep, group="budget")}
