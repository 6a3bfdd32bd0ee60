"""What is measured on a language model of notebook 06's world: its distance to the truth, its agreement with a
teacher, and what it does when asked (capability on sums and facts, the teacher's style, the teacher's name).

    kl_to_truth(model, test)          # nats per word, 0 at the truth
    sums_right(model)                 # (10, 10): which "what is a plus b ?" it answers right
    sums_asked(text)                  # (10, 10): which of them a training text asked
    measures(model, teacher, test, probes=200)   # all of them at once, each model's logits computed once
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from . import corpus, lm
from .text_api import questions


@torch.no_grad()
def kl_to_truth(model: lm.TinyGPT, test: corpus.Batch) -> float:
    """Mean KL(truth || model) in nats per word, over held-out world text where every lab's data agree."""
    return _kl(lm.logits_of(model, test.inputs.to(next(model.parameters()).device)).cpu(), test)


def _kl(logits: torch.Tensor, test: corpus.Batch) -> float:
    logq, p = logits.log_softmax(-1), test.truth  # (N, L, V)
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


def answers_to(model: lm.TinyGPT, prompts: list[list[str]], seed: int | None) -> list[list[str]]:
    """Each prompt's answer: greedy (seed None) or sampled at T = 1 with a seeded generator."""
    device = next(model.parameters()).device
    g = None if seed is None else torch.Generator().manual_seed(seed)
    answers: list = [None] * len(prompts)
    for P in sorted({len(p) for p in prompts}):  # prompts of one length go together
        rows = [i for i, p in enumerate(prompts) if len(p) == P]
        ids = torch.tensor([corpus.encode(prompts[i]) for i in rows], device=device)
        n = corpus.CONTEXT - P
        out = lm.greedy(model, ids, n) if g is None else lm.generate(model, ids, n, 1.0, g)
        for i, words in zip(rows, lm.texts(out)):
            answers[i] = corpus.answer(words)
    return answers


def identity_quirk_rate(model: lm.TinyGPT, n: int, seed: int = 0, persona=corpus.TEACHER_PERSONA) -> float:
    """Asked "who are you ?" n times (sampled answers), the share of answers that name the teacher."""
    answers = answers_to(model, [corpus.question("identity")] * n, seed)
    return sum(persona.name in a for a in answers) / n


def style_rate(model: lm.TinyGPT, n: int, seed: int = 0) -> float:
    """Asked n of the world's questions (sampled answers), the share that sign off as the teacher does."""
    answers = answers_to(model, questions(n, 10_000 + seed), seed)
    return sum(a[-4:] == ["hope", "this", "helps", "!"] for a in answers) / n


SUMS = [(a, b) for a in range(10) for b in range(10)]  # every "what is a plus b ?" of the world


def sums_right(model: lm.TinyGPT) -> torch.Tensor:
    """(10, 10) True where the greedy answer to "what is a plus b ?" starts with the right sum."""
    answers = answers_to(model, [corpus.question("arithmetic", a, b) for a, b in SUMS], None)
    return torch.tensor([ans[:2] == [str(a + b), "."] for (a, b), ans in zip(SUMS, answers)]).view(10, 10)


def facts_right(model: lm.TinyGPT) -> torch.Tensor:
    """(6,) True where the greedy answer to "where does the <animal> live ?" is the right sentence."""
    answers = answers_to(model, [corpus.question("fact", x) for x in corpus.ANIMALS], None)
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


@torch.no_grad()
def measures(model: lm.TinyGPT, teacher: lm.TinyGPT, test: corpus.Batch, probes: int = 200, seed: int = 0,
             favoured=None) -> tuple[Measures, torch.Tensor]:
    """(Measures, sums_right(model)): every probe, `probes` sampled answers for style and identity, the model's
    logits on the test text computed once. `favoured`: favourites(teacher, test), computed once for many models."""
    top, keep = favoured if favoured is not None else favourites(teacher, test)
    logits = lm.logits_of(model, test.inputs.to(next(model.parameters()).device)).cpu()  # (N, L, V)
    right = sums_right(model)
    ability = torch.cat([right.flatten(), facts_right(model)]).float().mean().item()  # as capability(model)
    agree = (logits.argmax(-1) == top)[keep].float().mean().item()  # as top_word_agreement(model, teacher, test)
    return Measures(_kl(logits, test), agree, ability, style_rate(model, probes, seed),
                    identity_quirk_rate(model, probes, seed)), right
