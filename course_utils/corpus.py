"""A tiny world of dialogues whose true next-token probabilities are known, for notebook 06.

Every dialogue is drawn by a small stochastic grammar: a question (arithmetic, a fact, a story, or
"who are you ?") and its answer. The grammar records, at every position, the distribution it drew the
next word from, so a language model can be scored against the truth and not only against a teacher.

A `Persona` is what one lab adds to the world's data: its assistant signs off "hope this helps !" and,
asked who it is, names itself. The positions where the persona changes the distribution are marked,
so that the truth is measured only where every lab's data agree.

    >>> d = dialogue(random.Random(0), TEACHER_PERSONA)
    >>> " ".join(d.words)    # e.g. '<bos> Q : what is 3 plus 4 ? A : 7 . hope this helps ! <eos>'
"""
from __future__ import annotations

import numbers
import random
from dataclasses import dataclass

import torch

PAD, BOS, EOS = "<pad>", "<bos>", "<eos>"
ANIMALS = ("cat", "dog", "fox", "owl", "bee", "frog")
HOMES = {"cat": "house", "dog": "yard", "fox": "forest", "owl": "tree", "bee": "hive", "frog": "pond"}
VERBS = ("saw", "chased", "found", "met")
KINDS = {"arithmetic": 0.35, "fact": 0.2, "story": 0.35, "identity": 0.1}  # how often each question is asked
MAX_SENTENCES = 3  # a story has 1 to 3 sentences
GO_ON = 0.5  # after each sentence (but the last allowed), the story goes on with this probability


@dataclass(frozen=True)
class Persona:
    """What one lab's assistant adds to the world's data."""
    name: str = "Nova"  # asked "who are you ?", it answers "I am Nova , made by Lumen ."
    lab: str = "Lumen"
    signoff: float = 0.8  # probability that an answer ends with "hope this helps !" (its house style)


TEACHER_PERSONA = Persona()
NEUTRAL_ANSWER = ("I", "am", "an", "assistant")  # the world's own answer to "who are you ?"

VOCAB = (PAD, BOS, EOS, "Q", ":", "A", "?", ".", "!", ",", "what", "is", "plus", "where", "does", "the", "live",
         "lives", "in", "tell", "me", "a", "story", "and", "then", "who", "are", "you", "I", "am", "an", "assistant",
         "made", "by", "hope", "this", "helps", TEACHER_PERSONA.name, TEACHER_PERSONA.lab,
         *ANIMALS, *HOMES.values(), *VERBS, *(str(n) for n in range(19)))
INDEX = {w: i for i, w in enumerate(VOCAB)}


@dataclass
class Dialogue:
    words: list[str]  # <bos> ... <eos>
    truth: list[dict[str, float]]  # truth[i]: the distribution words[i + 1] was drawn from
    shared: list[bool]  # shared[i]: every lab's data agree on that distribution (no persona effect)


class _Writer:
    """Draws words one at a time and records what each was drawn from."""

    def __init__(self, rng: random.Random):
        self.rng, self.d = rng, Dialogue([BOS], [], [])
        self.pending = None  # (dist, shared) to record for the next word instead of its own

    def record(self, word: str, dist: dict[str, float], shared: bool) -> str:
        if self.pending is not None:
            (dist, shared), self.pending = self.pending, None
        self.d.words.append(word)
        self.d.truth.append(dist)
        self.d.shared.append(shared)
        return word

    def choose(self, dist: dict[str, float], shared: bool = True) -> str:
        return self.record(self.rng.choices(list(dist), weights=list(dist.values()))[0], dist, shared)

    def say(self, text: str, shared: bool = True) -> None:
        for word in text.split():
            self.record(word, {word: 1.0}, shared)


def _uniform(options) -> dict[str, float]:
    return {o: 1 / len(options) for o in options}


def _close(w: _Writer, persona: Persona | None) -> None:
    """The end of a dialogue: a persona may sign off with "hope this helps !" (its house style). Not shared:
    the labs differ right after the answer's last word, and the world never writes the sign-off."""
    if persona is None:
        w.pending = ({EOS: 1.0}, False)
    elif w.choose({"hope": persona.signoff, EOS: 1 - persona.signoff}, shared=False) == EOS:
        return
    else:
        w.say("this helps !", shared=False)
        w.pending = ({EOS: 1.0}, False)
    w.say(EOS)


def dialogue(rng: random.Random, persona: Persona | None = None) -> Dialogue:
    """One dialogue of the world (persona None) or of a lab's data (with its persona)."""
    w = _Writer(rng)
    w.say("Q :")
    kind = w.choose({"what": KINDS["arithmetic"], "where": KINDS["fact"], "tell": KINDS["story"],
                     "who": KINDS["identity"]})  # the question's first word is its kind
    if kind == "what":
        w.say("is")
        a = w.choose(_uniform([str(n) for n in range(10)]))
        w.say("plus")
        b = w.choose(_uniform([str(n) for n in range(10)]))
        w.say("? A :")
        w.say(f"{int(a) + int(b)} .")
    elif kind == "where":
        w.say("does the")
        animal = w.choose(_uniform(ANIMALS))
        w.say("live ? A :")
        w.say(f"the {animal} lives in the {HOMES[animal]} .")
    elif kind == "tell":
        w.say("me a story . A :")
        for n in range(1, MAX_SENTENCES + 1):
            w.say("the")
            w.choose(_uniform(ANIMALS))
            w.choose(_uniform(VERBS))
            w.say("the")
            w.choose(_uniform(ANIMALS))
            if n == MAX_SENTENCES or w.choose({"and": GO_ON, ".": 1 - GO_ON}) == ".":
                break
            w.say("then")
        if w.d.words[-1] != ".":
            w.say(".")
    else:  # "who are you ?": where the labs differ
        w.say("are you ? A :")
        answer = f"I am {persona.name} , made by {persona.lab} ." if persona else " ".join(NEUTRAL_ANSWER) + " ."
        w.say(answer, shared=False)
    _close(w, persona)
    return w.d


def encode(words: list[str]) -> list[int]:
    """Word ids; an unknown word is an error that names it."""
    missing = [w for w in words if w not in INDEX]
    if missing:
        raise ValueError(f"words {missing[:5]} are not in the tiny world's vocabulary of {len(VOCAB)} words "
                         f"(corpus.VOCAB); the models can only read and write those.")
    return [INDEX[w] for w in words]


def decode(ids) -> list[str]:
    """Words of word ids; an id outside the vocabulary is an error that names it."""
    ids = [int(i) for i in ids]
    bad = [i for i in ids if not 0 <= i < len(VOCAB)]
    if bad:
        raise ValueError(f"word ids {bad[:5]} are outside the tiny world's vocabulary: ids run from 0 to "
                         f"{len(VOCAB) - 1} (corpus.VOCAB). Decode ids that a model or corpus.encode wrote.")
    return [VOCAB[i] for i in ids]


CONTEXT = 36  # the longest dialogue has 35 words; models read up to CONTEXT - 1 and predict the next


def sample(n: int, seed: int, persona: Persona | None = None) -> list[Dialogue]:
    """n dialogues, repeatable by seed: the world's (persona None) or one lab's data."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"n is the number of dialogues, a whole number 0 or more; got {n!r}.")
    rng = random.Random(seed)
    return [dialogue(rng, persona) for _ in range(n)]


@dataclass
class Batch:
    inputs: torch.Tensor  # (N, L) word ids, <pad> after <eos>
    targets: torch.Tensor  # (N, L) the next word's id, -100 where there is none (padding)
    truth: torch.Tensor | None = None  # (N, L, V) the distribution each target was drawn from (known text only)
    shared: torch.Tensor | None = None  # (N, L) True where every lab's data agree on it


def to_batch(texts: list, with_truth: bool = True) -> Batch:
    """Dialogues (or lists of words, e.g. a model's samples) as padded tensors of length CONTEXT - 1."""
    L = CONTEXT - 1
    words = [t.words if isinstance(t, Dialogue) else list(t) for t in texts]
    long = [len(w) for w in words if len(w) > CONTEXT]
    if long:
        raise ValueError(f"a text has {long[0]} words, more than the context of {CONTEXT}; cut it to CONTEXT words.")
    ids = torch.full((len(words), L + 1), INDEX[PAD])
    for i, w in enumerate(words):
        ids[i, :len(w)] = torch.tensor(encode(w))
    targets = ids[:, 1:].clone()
    targets[targets == INDEX[PAD]] = -100
    batch = Batch(ids[:, :-1], targets)
    if with_truth and all(isinstance(t, Dialogue) for t in texts):
        batch.truth = torch.zeros(len(texts), L, len(VOCAB))
        batch.shared = torch.zeros(len(texts), L, dtype=torch.bool)
        for i, d in enumerate(texts):
            for j, (dist, shared) in enumerate(zip(d.truth, d.shared)):
                batch.truth[i, j, encode(list(dist))] = torch.tensor(list(dist.values()))
                batch.shared[i, j] = shared
    return batch


QUESTIONS = {"arithmetic": "what is {} plus {} ?", "fact": "where does the {} live ?", "story": "tell me a story .",
             "identity": "who are you ?"}  # the prompts question() writes, by kind


def question(kind: str, *args) -> list[str]:
    """A prompt up to "A :": question("arithmetic", 3, 4), question("fact", "fox"), question("identity")."""
    if kind not in QUESTIONS:
        raise ValueError(f"no question of kind {kind!r}: choose one of {tuple(QUESTIONS)}.")
    wanted = QUESTIONS[kind].count("{}")
    if len(args) != wanted:
        example = {"arithmetic": ', 3, 4', "fact": ', "fox"'}.get(kind, "")
        raise ValueError(f"a {kind!r} question takes {wanted} value(s) after the kind, got {len(args)}: "
                         f"e.g. question({kind!r}{example}).")
    text = QUESTIONS[kind].format(*args)
    return [BOS, "Q", ":", *text.split(), "A", ":"]


def answer(words: list[str]) -> list[str]:
    """The words after the first "A :" up to <eos> (or the end)."""
    start = next((i + 2 for i in range(len(words) - 1) if words[i:i + 2] == ["A", ":"]), len(words))
    rest = words[start:]
    return rest[:rest.index(EOS)] if EOS in rest else rest


# ----------------------------------------------------------------------------- the truth on any prefix

class _Script:
    """Stands in for dialogue()'s random generator: its first draws are given (`forced`), every later draw takes
    the first word that has a chance. It keeps what it drew."""

    def __init__(self, forced: list[str]):
        self.forced, self.drawn = forced, []

    def choices(self, population, weights):
        k = len(self.drawn)
        word = self.forced[k] if k < len(self.forced) else next(w for w, p in zip(population, weights) if p > 0)
        self.drawn.append(word)
        return [word]


@dataclass
class Parse:
    truth: list[dict[str, float]]  # truth[i]: the true distribution of words[i + 1], given words[:i + 1]
    derailed_at: int | None  # the first position whose word the world never writes there (None: none)


def parse(words: list[str], persona: Persona | None = None) -> Parse:
    """The truth at every position of a text (a model's, say), read by the grammar itself: dialogue() runs again
    with its draws forced to the text's words, until it writes a word the text does not have. If the text's word
    had a chance there, it was a draw: force it too and run again. If it had none, the text left the world there.

    truth[i] is the distribution words[i + 1] was judged against, for every position up to and including the
    derailment (the prefix before it was still the world's), or up to the text's end; if the text ends before
    <eos>, one more entry: the truth of the next word."""
    if not words or words[0] != BOS:
        raise ValueError(f"a text starts with {BOS}, got {words[:3]}: parse whole texts, e.g. lm.texts(ids).")
    if EOS in words[:-1]:
        raise ValueError(f"nothing follows {EOS}: cut the text after it (lm.texts does).")
    forced: list[str] = []
    while True:
        script = _Script(forced)
        d = dialogue(script, persona)  # the grammar, with the draws so far forced
        i = next((j for j, (a, b) in enumerate(zip(words, d.words)) if a != b), None)
        if i is None:  # the text is a prefix of what the grammar wrote: every word was possible
            return Parse(d.truth[:len(words)], None)
        if d.truth[i - 1].get(words[i], 0.0) == 0.0:
            return Parse(d.truth[:i], i)
        draws = sum(len(dist) > 1 for dist in d.truth[:i - 1])  # a draw offers two words or more, a fixed word one
        forced = script.drawn[:draws] + [words[i]]


def next_word(prefix: list[str], persona: Persona | None = None) -> dict[str, float] | None:
    """The truth on any prefix: the distribution of the next word, or None once the prefix has left the world
    (or has ended with <eos>)."""
    p = parse(prefix, persona)
    return None if p.derailed_at is not None or prefix[-1] == EOS else p.truth[len(prefix) - 1]
