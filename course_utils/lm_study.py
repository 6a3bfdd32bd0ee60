"""Notebook 06's study, defined once: the lab's teacher, the students distilled from its closed API, and what is
measured on them (the truth, the teacher, capability on sums seen and unseen, style, identity).

    teacher = train_teacher(study, device)            # the lab's model and its measures
    run = run_students(teacher.model, study, device)   # every student for every seed, and the budget sweep
    kl = per_seed(run.students, "kl_to_truth")         # {student: [one value per seed]}

The closed API and the copier's purchase are course_utils.text_api (its names are importable from here too).
Long runs are replayed in the demo profile (course_utils.replay).
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import torch
from tqdm.auto import tqdm

from . import config, corpus, lm, replay, stats
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
    budget_sweep: tuple  # budgets (words) for the text-only student's sweep: prefixes of one purchase per seed
    top_k: int  # what the top-k API shows per word
    seeds: int
    test_dialogues: int  # held-out world dialogues the truth is measured on
    probes: int = 200  # answers sampled per behaviour probe (identity, style)
    students: tuple = ("no_teacher", "token_level", "written_only", "top_k", "sequence_level")
    primary: tuple = ("sequence_level", "written_only")  # declared before the run: KL of the first minus the second
    teacher_batch_size: int = 64


STUDIES = {
    "quick": LMStudy(teacher=lm.GPTConfig(d=96, layers=3, heads=4), student=lm.GPTConfig(d=48, layers=2, heads=4),
                     teacher_dialogues=20_000, teacher_steps=600, student_steps=300, batch_size=32, lr=3e-3,
                     budget_words=4_000, budget_sweep=(4_000, 8_000, 16_000), top_k=5, seeds=5,
                     test_dialogues=1_000),
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


# ----------------------------------------------------------------------------- what is measured

@torch.no_grad()
def kl_to_truth(model: lm.TinyGPT, test: corpus.Batch) -> float:
    """Mean KL(truth || model) in nats per word, over held-out world text where every lab's data agree."""
    logq = lm.logits_of(model, test.inputs.to(next(model.parameters()).device)).log_softmax(-1).cpu()  # (N, L, V)
    p = test.truth
    kl = (p * (torch.log(p.clamp_min(1e-30)) - logq)).sum(-1)  # (N, L)
    keep = test.shared & (test.targets != lm.IGNORE)
    return kl[keep].mean().item()


@torch.no_grad()
def favourites(teacher: lm.TinyGPT, test: corpus.Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """The teacher's top word at every test position (N, L), and where it is a clear favourite (probability above
    1/2; where the truth is a tie, as between six animals, a favourite means nothing)."""
    p_t = lm.logits_of(teacher, test.inputs.to(next(teacher.parameters()).device)).softmax(-1).cpu()
    return p_t.argmax(-1), test.shared & (test.targets != lm.IGNORE) & (p_t.amax(-1) > 0.5)


@torch.no_grad()
def top_word_agreement(model: lm.TinyGPT, teacher: lm.TinyGPT, test: corpus.Batch, favoured=None) -> float:
    """How often the model's most likely next word is the teacher's, where the teacher has a clear favourite.
    `favoured`: favourites(teacher, test), computed once for many models."""
    top, keep = favoured if favoured is not None else favourites(teacher, test)
    a = lm.logits_of(model, test.inputs.to(next(model.parameters()).device)).argmax(-1).cpu()
    return (a == top)[keep].float().mean().item()


agreement = top_word_agreement  # the name notebook 06 used first


def _answers(model: lm.TinyGPT, prompts: list[list[str]], seed: int | None) -> list[list[str]]:
    """Each prompt's answer: greedy (seed None) or sampled at T = 1 with a seeded generator."""
    device = next(model.parameters()).device
    g = None if seed is None else torch.Generator().manual_seed(seed)
    answers: list = [None] * len(prompts)
    for P in sorted({len(p) for p in prompts}):  # prompts of one length go together
        rows = [i for i, p in enumerate(prompts) if len(p) == P]
        ids = torch.tensor([corpus.encode(prompts[i]) for i in rows], device=device)
        out = lm.greedy(model, ids, corpus.CONTEXT - P) if g is None else lm.generate(model, ids, corpus.CONTEXT - P, 1.0, g)
        for i, words in zip(rows, lm.texts(out)):
            answers[i] = corpus.answer(words)
    return answers


def identity_quirk_rate(model: lm.TinyGPT, n: int, seed: int = 0, persona=corpus.TEACHER_PERSONA) -> float:
    """Asked "who are you ?" n times (sampled answers), the share of answers that name the teacher."""
    answers = _answers(model, [corpus.question("identity")] * n, seed)
    return sum(persona.name in a for a in answers) / n


def style_rate(model: lm.TinyGPT, n: int, seed: int = 0) -> float:
    """Asked n of the world's questions (sampled answers), the share that sign off as the teacher does."""
    answers = _answers(model, questions(n, 10_000 + seed), seed)
    return sum(a[-4:] == ["hope", "this", "helps", "!"] for a in answers) / n


SUMS = [(a, b) for a in range(10) for b in range(10)]  # every "what is a plus b ?" of the world


def sums_right(model: lm.TinyGPT) -> torch.Tensor:
    """(10, 10) True where the greedy answer to "what is a plus b ?" starts with the right sum."""
    answers = _answers(model, [corpus.question("arithmetic", a, b) for a, b in SUMS], None)
    return torch.tensor([ans[:2] == [str(a + b), "."] for (a, b), ans in zip(SUMS, answers)]).view(10, 10)


def facts_right(model: lm.TinyGPT) -> torch.Tensor:
    """(6,) True where the greedy answer to "where does the <animal> live ?" is the right sentence."""
    answers = _answers(model, [corpus.question("fact", x) for x in corpus.ANIMALS], None)
    return torch.tensor([ans[:7] == f"the {x} lives in the {corpus.HOMES[x]} .".split()
                         for x, ans in zip(corpus.ANIMALS, answers)])


def capability(model: lm.TinyGPT) -> float:
    """Share of the 100 sums and the 6 facts answered right (greedy answers, sign-off ignored)."""
    right = torch.cat([sums_right(model).flatten(), facts_right(model)])
    return right.float().mean().item()


def sums_asked(text: corpus.Batch) -> torch.Tensor:
    """(10, 10) True where "what is a plus b ?" is a question in the text (its dialogues start <bos> Q : what is)."""
    asked = torch.zeros(10, 10, dtype=torch.bool)
    what, ids = corpus.INDEX["what"], text.inputs
    for row in ids[ids[:, 3] == what].tolist():
        asked[int(corpus.VOCAB[row[5]]), int(corpus.VOCAB[row[7]])] = True
    return asked


@dataclass
class Measures:
    kl_to_truth: float  # nats per word
    agreement: float  # with the teacher's top word
    capability: float  # sums and facts answered right
    style: float  # sign-offs in the teacher's words
    identity_quirk: float  # claims to be the teacher


def measure(model: lm.TinyGPT, teacher: lm.TinyGPT, test: corpus.Batch, study: LMStudy, seed: int = 0,
            favoured=None) -> Measures:
    return _measure(model, teacher, test, study, seed, favoured)[0]


def _measure(model, teacher, test, study, seed, favoured) -> tuple[Measures, torch.Tensor]:
    """measure(), and sums_right(model), which its capability counts."""
    right = sums_right(model)
    ability = torch.cat([right.flatten(), facts_right(model)]).float().mean().item()  # as capability(model)
    return Measures(kl_to_truth(model, test), top_word_agreement(model, teacher, test, favoured), ability,
                    style_rate(model, study.probes, seed), identity_quirk_rate(model, study.probes, seed)), right


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
    return Teacher(model, measure(model, model, test_set(study), study), sums_right(model).float().mean().item(),
                   lm.count_params(model), record.seconds)


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
    world dialogues. Each seed buys the sweep's largest budget once; smaller budgets are its first replies."""
    test, students, sweep = test_set(study), [], []
    favoured = favourites(teacher, test)
    extra = [b for b in study.budget_sweep if b != study.budget_words]
    bar = tqdm(total=study.seeds * (len(study.students) + len(extra)), desc="students", disable=not progress)
    for seed in range(study.seeds):
        api = TextAPI(teacher, max(study.budget_words, *study.budget_sweep), top_k=study.top_k, seed=seed)
        replies = buy(api, seed)
        transfer = transfer_from(teacher, first_words(replies, study.budget_words), seed)
        for name in study.students:
            model, record = train_student(name, seed, transfer, study, device)
            m, right = _measure(model, teacher, test, study, seed, favoured)
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


KL_PAIRS = {  # (a, b): KL of a minus KL of b, paired by seed; above zero, b is closer to the truth. The first is declared.
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
    return [_row(name, stats.paired(values[a], values[b])) for name, (a, b) in pairs.items()]


def seen_minus_unseen(records: list) -> list[dict]:
    """Per student: sums answered right among those its text asked, minus among those it did not, seed by seed
    (students that saw every sum in some seed are left out)."""
    seen, unseen = per_seed(records, "seen_right"), per_seed(records, "unseen_right")
    return [_row(f"{name}: seen - unseen", stats.paired(seen[name], unseen[name]))
            for name in seen if None not in unseen[name]]


def _row(name: str, summary: dict) -> dict:
    return {"difference": name, **summary, "verdict": stats.verdict(summary),
            **{f"points{end}": 100 * summary[k] for end, k in (("", "mean"), ("_lo", "lo"), ("_hi", "hi"))}}


def behaviour(run: Run, teacher: Teacher) -> dict:
    """{probe: {model: [value per seed]}} for plots.plot_behaviour: capability on sums seen and unseen in each
    student's text (the teacher's data held every sum), style and identity."""
    probes = {"sums seen in its text": ("seen_right", teacher.sums_right), "sums not in its text": ("unseen_right", None),
              "style (Nova's sign-off)": ("style", teacher.measures.style),
              "identity (names Nova)": ("identity_quirk", teacher.measures.identity_quirk)}
    return {label: {"teacher": [mine]} | per_seed(run.students, key) for label, (key, mine) in probes.items()}


def capability_reading(run: Run) -> str:
    """Whether this run can put a student's weak capability on text: the white-box student against the text-only
    one, which read the same text (stats.reading of the paired difference in capability)."""
    ability = per_seed(run.students, "capability")
    return stats.reading(
        stats.paired(ability["token_level"], ability["sequence_level"]), digits=1,
        above="The white-box student answers more sums and facts than the text-only one on the same text "
              "({interval}): part of the limit is the text.",
        below="The white-box student answers fewer sums and facts than the text-only one on the same text "
              "({interval}): the limit is not the text.",
        neither="The white-box student is not told apart from the text-only one on the same text ({interval}): "
                "this run cannot put the limit on the text.")


def sweep_readings(run: Run, study: LMStudy) -> list[str]:
    """What the budget sweep shows: the text-only student at the largest budget against the written-only student
    at the first one (KL), and its capability at the largest budget against the first."""
    kl, top = per_seed(run.sweep, "kl_to_truth", group="budget"), max(study.budget_sweep)
    ability = per_seed(run.sweep, "capability", group="budget")
    written = per_seed(run.students, "kl_to_truth")["written_only"]
    more = f"with {top / study.budget_words:.0f}x the text"
    return [stats.reading(stats.paired(kl[top], written), scale=1.0, unit="nats/word", digits=4,
                          above=f"Text-only {more}, minus written-only at the first budget: {{interval}}: still "
                                "further from the truth.",
                          below=f"Text-only {more}, minus written-only at the first budget: {{interval}}: closer to "
                                "the truth.",
                          neither=f"Text-only {more}, minus written-only at the first budget: {{interval}}: not told "
                                  "apart."),
            stats.reading(stats.paired(ability[top], ability[study.budget_words]), digits=1,
                          above=f"Capability of the text-only student {more}, minus at the first budget: {{interval}}: "
                                "it rises with the text, as a student limited by its data and steps would.",
                          below=f"Capability of the text-only student {more}, minus at the first budget: {{interval}}: "
                                "it falls.",
                          neither=f"Capability of the text-only student {more}, minus at the first budget: "
                                  "{interval}: not told apart.")]


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
    """Train the top-k student with k and with study.top_k words shown, for `seeds` seeds, half the study's steps
    (about 20 s on a laptop CPU). The API's sampling does not depend on k, so both read the same text."""
    steps = study.student_steps // 2
    test, kl = test_set(study), {k: [], study.top_k: []}
    for seed in tqdm(range(seeds), desc=f"top-{k} students"):
        api = TextAPI(teacher, study.budget_words, top_k=max(k, study.top_k), seed=seed)
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
