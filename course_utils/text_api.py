"""A language model behind a closed API, the text twin of `server.TeacherAPI`, and the copier's side of it.

    api = TextAPI(model, budget=4_000, top_k=5)   # every word it writes is paid, up to 4,000 words
    replies = buy(api, seed=0)                    # the copier asks its own questions until the budget is spent
    reply.words                                   # the prompt, then the words the API wrote (its text)
    reply.top_ids, reply.top_probs                # with top_k: the k most likely words at each written position

What the copier can build from the replies: the text (`targets_from` with one-hot answers), or a target
distribution at each written word (`spread_top_k`: the k shown probabilities, the hidden mass spread evenly).
A refused request is refused whole: nothing is sold, nothing is paid, and the API's sampling is left where it was.
"""
from __future__ import annotations

import math
import numbers
import random
from typing import NamedTuple

import torch

from . import copier, corpus, lm, server


class Reply(NamedTuple):
    words: list[str]  # the prompt, then the words the API wrote (up to <eos>)
    written: int  # how many words the API wrote (the last `written` of `words`), each one paid
    top_ids: torch.Tensor | None  # (n, k) for each written word: the k most likely words at that point
    top_probs: torch.Tensor | None  # (n, k) their probabilities


def _whole(value, name: str, low: int, high: float = math.inf, meaning: str = "") -> int:
    """`value` as an int in [low, high], or a ValueError naming the argument, what came and what to pass."""
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    ok = ok or (isinstance(value, float) and value.is_integer())
    if not ok or not low <= value <= high:
        bound = f">= {low}" if high == math.inf else f"between {low} and {high}"
        raise ValueError(f"{name} must be a whole number {bound}{meaning}, got {value!r}.")
    return int(value)


class TextAPI:
    """A language model served as a closed API: it continues a prompt by sampling, and returns the text, and
    with `top_k` also the k most likely words (and their probabilities) at each written position. Every word it
    writes is paid, up to `budget` words; a request that would pass it is refused whole, and leaves the API as it
    was (its sampling generator included), as if it had never been made."""

    def __init__(self, model: lm.TinyGPT, budget: int, top_k: int | None = None, seed: int = 0):
        self.budget = _whole(budget, "budget", 0, meaning=" of words (each word the API writes costs one)")
        V = len(corpus.VOCAB)
        self.top_k = None if top_k is None else _whole(top_k, "top_k", 1, V, f" (the vocabulary has {V} words), "
                                                        "or None for text only")
        self._model, self.spent = model, 0
        self._g = torch.Generator().manual_seed(_whole(seed, "seed", 0))

    @property
    def remaining(self) -> int:
        return self.budget - self.spent

    def complete(self, prompts: list[list[str]], T: float = 1.0) -> list[Reply]:
        """One reply per prompt (prompts of any lengths; answers at most CONTEXT words in all)."""
        ids = [corpus.encode(p) for p in prompts]  # an unknown word is refused before anything is sampled
        state = self._g.get_state()
        try:
            replies = self._sample(ids, T)
            cost = sum(r.written for r in replies)
            if cost > self.remaining:
                raise server.BudgetExceeded(f"these replies need {cost:,d} words but {self.remaining:,d} remain of "
                                            f"the budget of {self.budget:,d}; nothing was sold.")
        except BaseException:
            self._g.set_state(state)  # refused: the next request samples as if this one had never come
            raise
        self.spent += cost
        return replies

    def _sample(self, ids: list[list[int]], T: float) -> list[Reply]:
        device = next(self._model.parameters()).device
        by_length: dict[int, list[int]] = {}
        for i, p in enumerate(ids):
            by_length.setdefault(len(p), []).append(i)
        replies: list[Reply | None] = [None] * len(ids)
        for P, rows in by_length.items():
            out = lm.generate(self._model, torch.tensor([ids[i] for i in rows], device=device),
                              corpus.CONTEXT - P, T, self._g)  # (b, P + n)
            tops = None
            if self.top_k:
                probs = lm.logits_of(self._model, out[:, :-1]).softmax(-1)  # (b, L, V): what it wrote from
                tops = probs.topk(self.top_k, dim=-1)
            for j, (i, words) in enumerate(zip(rows, lm.texts(out))):
                n = len(words) - P  # the words it wrote
                at = slice(P - 1, P - 1 + n)  # the positions it wrote from
                top = (tops.indices[j, at].cpu(), tops.values[j, at].cpu()) if tops else (None, None)
                replies[i] = Reply(words, n, *top)
        return replies


# ----------------------------------------------------------------------------- the copier's side

def questions(n: int, seed: int) -> list[list[str]]:
    """The copier's prompts: n questions of the world (its own data), each up to "A :"."""
    return [d.words[:d.words.index("A") + 2] for d in corpus.sample(n, seed)]


def buy(api: TextAPI, seed: int, chunk: int = 500) -> list[Reply]:
    """Ask the world's questions until the budget is spent: each request as many questions as the remaining words
    should pay for (by the mean reply so far, at most `chunk`); a refused request is asked again with half as many
    questions, down to one (the last replies that no longer fit are not bought)."""
    replies, rng, n = [], random.Random(seed), _whole(chunk, "chunk", 1)
    n = min(n, max(1, api.remaining // corpus.CONTEXT))  # no reply is longer than the context: this first one fits
    while n >= 1:
        try:
            replies += api.complete(questions(n, rng.randrange(2 ** 31)))
        except server.BudgetExceeded:
            n //= 2
            continue
        per_reply = sum(r.written for r in replies) / len(replies)
        n = max(1, min(chunk, int(0.9 * api.remaining / per_reply)))
    return replies


def first_words(replies: list[Reply], budget: int) -> list[Reply]:
    """The first replies whose written words add up to at most `budget`: a smaller purchase of the same text."""
    spent = torch.tensor([r.written for r in replies]).cumsum(0)
    return replies[:int((spent <= budget).sum())]


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
