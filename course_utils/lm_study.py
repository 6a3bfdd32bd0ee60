"""Notebook 06's study, defined once: a closed language-model API, the students distilled from it, and what
is measured on them (the truth, the teacher, capability, style, identity)."""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import NamedTuple

import torch

from . import config, copier, corpus, lm, server


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
    budget_sweep: tuple  # budgets (words) for the sequence-level student's sweep
    top_k: int  # what the top-k API shows per word
    seeds: int
    test_dialogues: int  # held-out world dialogues the truth is measured on
    probes: int = 200  # answers sampled per behaviour probe (identity, style)
    students: tuple = ("no_teacher", "token_level", "top_k", "sequence_level")


STUDIES = {
    "quick": LMStudy(teacher=lm.GPTConfig(d=96, layers=3, heads=4), student=lm.GPTConfig(d=48, layers=2, heads=4),
                     teacher_dialogues=20_000, teacher_steps=600, student_steps=300, batch_size=32, lr=3e-3,
                     budget_words=4_000, budget_sweep=(4_000, 16_000, 32_000), top_k=5, seeds=3,
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


# ----------------------------------------------------------------------------- the closed API

class Reply(NamedTuple):
    words: list[str]  # the prompt, then the words the API wrote (up to <eos>)
    written: int  # how many words the API wrote (the last `written` of `words`), each one paid
    top_ids: torch.Tensor | None  # (n, k) for each written word: the k most likely words at that point
    top_probs: torch.Tensor | None  # (n, k) their probabilities


class TextAPI:
    """A language model served as a closed API: it continues a prompt by sampling, and returns the text, and
    with `top_k` also the k most likely words (and their probabilities) at each written position. Every word it
    writes is paid, up to `budget` words; a request that would pass it is refused whole."""

    def __init__(self, model: lm.TinyGPT, budget: int, top_k: int | None = None, seed: int = 0):
        self._model, self.top_k, self.budget, self.spent = model, top_k, budget, 0
        self._g = torch.Generator().manual_seed(seed)

    @property
    def remaining(self) -> int:
        return self.budget - self.spent

    def complete(self, prompts: list[list[str]], T: float = 1.0) -> list[Reply]:
        """One reply per prompt (prompts of any lengths; answers at most CONTEXT words in all)."""
        device = next(self._model.parameters()).device
        by_length: dict[int, list[int]] = {}
        for i, p in enumerate(prompts):
            by_length.setdefault(len(p), []).append(i)
        replies: list[Reply | None] = [None] * len(prompts)
        for P, rows in by_length.items():
            ids = torch.tensor([corpus.encode(prompts[i]) for i in rows], device=device)  # (b, P)
            out = lm.generate(self._model, ids, corpus.CONTEXT - P, T, self._g)  # (b, P + n)
            tops = None
            if self.top_k:
                probs = lm.logits_of(self._model, out[:, :-1]).softmax(-1)  # (b, L, V): what it wrote from
                tops = probs.topk(self.top_k, dim=-1)
            for j, (i, words) in enumerate(zip(rows, lm.texts(out))):
                n = len(words) - P  # the words it wrote
                top = (tops.indices[j, P - 1:P - 1 + n].cpu(), tops.values[j, P - 1:P - 1 + n].cpu()) if tops else (None, None)
                replies[i] = Reply(words, n, *top)
        cost = sum(r.written for r in replies)
        if cost > self.remaining:
            raise server.BudgetExceeded(f"these replies need {cost:,d} words but {self.remaining:,d} remain of "
                                        f"the budget of {self.budget:,d}; nothing was sold.")
        self.spent += cost
        return replies


def questions(n: int, seed: int) -> list[list[str]]:
    """The copier's prompts: n questions of the world (its own data), each up to "A :"."""
    return [d.words[:d.words.index("A") + 2] for d in corpus.sample(n, seed)]


def buy(api: TextAPI, seed: int, chunk: int = 500) -> list[Reply]:
    """Ask the world's questions, `chunk` at a time, until the budget is spent; near its end a refused request is
    asked again with half as many questions, down to one (the last replies that no longer fit are not bought)."""
    replies, rng = [], random.Random(seed)
    while True:
        batch = questions(chunk, rng.randrange(2 ** 31))
        try:
            replies += api.complete(batch)
        except server.BudgetExceeded:
            if chunk == 1:
                return replies
            chunk //= 2


def written_positions(replies: list[Reply]) -> torch.Tensor:
    """(B, L) True at the positions whose next word the API wrote (position j predicts word j + 1)."""
    written = torch.zeros(len(replies), corpus.CONTEXT - 1, dtype=torch.bool)
    for i, r in enumerate(replies):
        written[i, len(r.words) - r.written - 1:len(r.words) - 1] = True
    return written


def targets_from(replies: list[Reply], answers: list[torch.Tensor]) -> tuple[corpus.Batch, torch.Tensor]:
    """The copier's training text and a target distribution at every position (B, L, V): `answers[i]` (n_i, V)
    where reply i's API wrote the word, the copier's own word (one-hot) in its question, where the API said
    nothing."""
    batch = corpus.to_batch([r.words for r in replies])
    probs = torch.zeros(*batch.targets.shape, len(corpus.VOCAB))  # (B, L, V)
    probs.scatter_(2, batch.targets.clamp_min(0).unsqueeze(-1), 1.0)
    probs[written_positions(replies)] = torch.cat(answers)
    return batch, probs


def spread_top_k(reply: Reply) -> torch.Tensor:
    """A top-k reply as distributions (n, V): the k shown probabilities where they belong, the hidden mass spread
    evenly over the other words (copier.to_targets, as notebook 04 does with classes)."""
    return copier.to_targets(server.TopK(reply.top_ids, reply.top_probs), "top_k", num_classes=len(corpus.VOCAB))


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
def agreement(model: lm.TinyGPT, teacher: lm.TinyGPT, test: corpus.Batch) -> float:
    """How often the model's most likely next word is the teacher's, where the teacher has a clear favourite
    (probability above 1/2; where the truth is a tie, as between six animals, a favourite means nothing)."""
    device = next(model.parameters()).device
    a = lm.logits_of(model, test.inputs.to(device)).argmax(-1).cpu()
    p_t = lm.logits_of(teacher, test.inputs.to(device)).softmax(-1).cpu()
    b = p_t.argmax(-1)
    keep = test.shared & (test.targets != lm.IGNORE) & (p_t.amax(-1) > 0.5)
    return (a == b)[keep].float().mean().item()


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


def capability(model: lm.TinyGPT) -> float:
    """Share of the 100 sums and the 6 facts answered right (greedy answers, sign-off ignored)."""
    right = []
    sums = [(a, b) for a in range(10) for b in range(10)]
    for (a, b), ans in zip(sums, _answers(model, [corpus.question("arithmetic", a, b) for a, b in sums], None)):
        right.append(ans[:2] == [str(a + b), "."])
    facts = [corpus.question("fact", x) for x in corpus.ANIMALS]
    for x, ans in zip(corpus.ANIMALS, _answers(model, facts, None)):
        right.append(ans[:7] == f"the {x} lives in the {corpus.HOMES[x]} .".split())
    return sum(right) / len(right)


@dataclass
class Measures:
    kl_to_truth: float  # nats per word
    agreement: float  # with the teacher's top word
    capability: float  # sums and facts answered right
    style: float  # sign-offs in the teacher's words
    identity_quirk: float  # claims to be the teacher


def measure(model: lm.TinyGPT, teacher: lm.TinyGPT, test: corpus.Batch, study: LMStudy, seed: int = 0) -> Measures:
    return Measures(kl_to_truth(model, test), agreement(model, teacher, test), capability(model),
                    style_rate(model, study.probes, seed), identity_quirk_rate(model, study.probes, seed))


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


def prepare(teacher: lm.TinyGPT, study: LMStudy, budget: int, seed: int = 0, top_k: bool = True) -> Transfer:
    """Buy `budget` words of answers (with top-k, unless top_k is False) from the teacher's API, with the copier's
    questions of `seed`, and gather each student's data."""
    api = TextAPI(teacher, budget, top_k=study.top_k if top_k else None, seed=seed)
    replies = buy(api, seed)
    device = next(teacher.parameters()).device
    text = corpus.to_batch([r.words for r in replies], with_truth=False)
    teacher_probs = lm.logits_of(teacher, text.inputs.to(device)).softmax(-1).cpu()  # (B, L, V) the lab's own view
    top_k_probs = targets_from(replies, [spread_top_k(r) for r in replies])[1] if top_k else None
    world = corpus.to_batch(corpus.sample(len(replies), 20_000 + seed), with_truth=False)
    return Transfer(text, written_positions(replies), teacher_probs, top_k_probs, world, api.spent)


def student_data(name: str, transfer: Transfer, device):
    """(inputs, loss_fn) of one student; loss_fn(logits, rows) as lm.fit takes it. The three copies read the same
    text; only their targets differ."""
    if name == "no_teacher":
        x, y = transfer.world.inputs.to(device), transfer.world.targets.to(device)
        return x, lambda z, rows: lm.token_cross_entropy(z, y[rows])
    x, y = transfer.bought.inputs.to(device), transfer.bought.targets.to(device)
    if name in ("token_level", "top_k"):
        q = (transfer.teacher_probs if name == "token_level" else transfer.top_k_probs).to(device)
        return x, lambda z, rows: lm.soft_token_loss(z, q[rows], y[rows])
    if name == "sequence_level":
        return x, lambda z, rows: lm.token_cross_entropy(z, y[rows])
    raise ValueError(f"unknown student {name!r}: choose one of {STUDIES['quick'].students}.")


def train_student(name: str, seed: int, transfer: Transfer, study: LMStudy, device, progress: bool = False):
    """One student: seed-fixed initial weights and batches, the study's steps; returns (model, lm.FitRecord)."""
    model = new_model(study.student, 1_000 + seed, device)
    x, loss_fn = student_data(name, transfer, device)
    record = lm.fit(model, x, loss_fn, study.student_steps, study.batch_size, study.lr, seed, desc=name,
                    progress=progress)
    return model, record
