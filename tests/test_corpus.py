"""The tiny world of notebook 06: its recorded truth is the distribution each word was drawn from."""
import random
from collections import Counter

import pytest
import torch

from course_utils import corpus


@pytest.mark.parametrize("persona", [None, corpus.TEACHER_PERSONA])
def test_every_word_was_drawn_from_its_recorded_truth(persona):
    for d in corpus.sample(300, seed=0, persona=persona):
        assert d.words[0] == corpus.BOS and d.words[-1] == corpus.EOS and len(d.words) <= corpus.CONTEXT
        assert len(d.truth) == len(d.shared) == len(d.words) - 1
        for word, dist in zip(d.words[1:], d.truth):
            assert dist[word] > 0 and sum(dist.values()) == pytest.approx(1.0)


def test_the_truth_matches_the_frequencies_it_claims():
    """After 'A : the' in a story, each of the six animals comes up about 1/6 of the time."""
    counts = Counter()
    for d in corpus.sample(3000, seed=1):
        if "story" in d.words:
            i = d.words.index("A") + 2  # the first word of the answer, 'the'
            assert d.truth[i] == {a: pytest.approx(1 / 6) for a in corpus.ANIMALS}
            counts[d.words[i + 1]] += 1
    n = sum(counts.values())
    assert n > 800 and set(counts) == set(corpus.ANIMALS)
    assert all(abs(c / n - 1 / 6) < 0.04 for c in counts.values())


def test_only_the_persona_marks_positions_as_not_shared():
    world = corpus.sample(500, seed=2)
    for d in world:
        not_shared = [w for w, s in zip(d.words[1:], d.shared) if not s]
        if "who" in d.words:
            assert not_shared == [*corpus.NEUTRAL_ANSWER, ".", corpus.EOS]
        else:
            assert not_shared == [corpus.EOS]  # where the persona would sign off
    lab = corpus.sample(500, seed=2, persona=corpus.TEACHER_PERSONA)
    assert any("Nova" in d.words for d in lab) and not any("Nova" in d.words for d in world)
    share = sum(d.words[-5:-1] == ["hope", "this", "helps", "!"] for d in lab) / len(lab)
    assert abs(share - corpus.TEACHER_PERSONA.signoff) < 0.06


def test_batches_pad_and_mask_and_carry_the_truth():
    dialogues = corpus.sample(5, seed=3)
    b = corpus.to_batch(dialogues)
    L = corpus.CONTEXT - 1
    assert b.inputs.shape == b.targets.shape == b.shared.shape == (5, L) and b.truth.shape == (5, L, len(corpus.VOCAB))
    for i, d in enumerate(dialogues):
        n = len(d.words) - 1
        assert corpus.decode(b.inputs[i, :n]) == d.words[:-1]
        assert corpus.decode(b.targets[i, :n]) == d.words[1:]
        assert (b.targets[i, n:] == -100).all() and (b.truth[i, n:] == 0).all()
        assert torch.allclose(b.truth[i, :n].sum(-1), torch.ones(n))
        assert (b.truth[i, torch.arange(n), b.targets[i, :n]] > 0).all()
    assert corpus.to_batch([d.words for d in dialogues]).truth is None  # plain text has no truth


def test_prompts_answers_and_errors():
    assert corpus.question("arithmetic", 3, 4) == "<bos> Q : what is 3 plus 4 ? A :".split()
    assert corpus.answer("<bos> Q : who are you ? A : I am Nova . <eos> <pad>".split()) == ["I", "am", "Nova", "."]
    with pytest.raises(ValueError, match="not in the tiny world's vocabulary"):
        corpus.encode(["hello"])
    with pytest.raises(ValueError, match="more than the context"):
        corpus.to_batch([["the"] * (corpus.CONTEXT + 1)])
    assert corpus.sample(3, seed=9)[2].words == corpus.sample(3, seed=9)[2].words  # repeatable by seed
    assert corpus.dialogue(random.Random(0)).words == corpus.dialogue(random.Random(0)).words


@pytest.mark.parametrize("call, says", [
    (lambda: corpus.decode([999]), "outside the tiny world's vocabulary"),
    (lambda: corpus.decode([-1]), "outside the tiny world's vocabulary"),
    (lambda: corpus.question("weather"), "choose one of"),
    (lambda: corpus.question("arithmetic"), r"takes 2 value\(s\)"),
    (lambda: corpus.question("identity", "Nova"), r"takes 0 value\(s\)"),
    (lambda: corpus.sample(2.5, 0), "a whole number 0 or more"),
    (lambda: corpus.sample(-3, 0), "a whole number 0 or more"),
])
def test_wrong_arguments_say_what_was_expected(call, says):
    with pytest.raises(ValueError, match=says):
        call()
    assert corpus.sample(0, seed=0) == [] and corpus.decode(corpus.encode(["the", "cat"])) == ["the", "cat"]
