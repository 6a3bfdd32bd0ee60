"""The truth on any prefix (corpus.parse, corpus.next_word): the grammar read backwards agrees with the grammar
written forwards, at every position of many dialogues, and says where a text leaves the world."""
import pytest

from course_utils import corpus


@pytest.mark.parametrize("persona", [None, corpus.TEACHER_PERSONA])
def test_the_parser_gives_the_recorded_truth_at_every_position(persona):
    for d in corpus.sample(400, seed=11, persona=persona):
        whole = corpus.parse(d.words, persona)
        assert whole.derailed_at is None and whole.truth == d.truth
        for n in range(1, len(d.words)):  # every prefix: the distribution the generator drew the next word from
            assert corpus.next_word(d.words[:n], persona) == d.truth[n - 1]
        assert corpus.next_word(d.words, persona) is None  # after <eos>, nothing


def test_a_wrong_word_derails_where_it_stands():
    wrong_sum = "<bos> Q : what is 3 plus 4 ? A : 8 . <eos>".split()
    p = corpus.parse(wrong_sum)
    assert p.derailed_at == 11 and len(p.truth) == 11 and p.truth[10] == {"7": 1.0}  # judged against the truth
    assert corpus.next_word(wrong_sum[:12]) is None
    fourth = ("<bos> Q : tell me a story . A : " + " and then ".join(["the cat saw the dog"] * 3) + " and").split()
    assert corpus.parse(fourth).derailed_at == len(fourth) - 1  # a story has at most three sentences
    assert corpus.next_word(fourth[:-1]) == {".": 1.0}
    assert corpus.parse("<bos> Q : who are you ? A : I am Nova".split()).derailed_at == 11  # the world has no Nova
    lab = corpus.parse("<bos> Q : who are you ? A : I am Nova".split(), corpus.TEACHER_PERSONA)
    assert lab.derailed_at is None and lab.truth[-1] == {",": 1.0}
    assert corpus.parse("<bos> <pad> Q".split()).derailed_at == 1


def test_a_cut_text_gives_the_next_words_truth_and_errors_say_what_to_do():
    p = corpus.parse("<bos> Q : tell me a story . A : the".split())
    assert p.derailed_at is None and p.truth[-1] == {a: pytest.approx(1 / 6) for a in corpus.ANIMALS}
    assert corpus.next_word([corpus.BOS]) == {"Q": 1.0}
    with pytest.raises(ValueError, match="starts with <bos>"):
        corpus.parse(["Q", ":"])
    with pytest.raises(ValueError, match="nothing follows <eos>"):
        corpus.parse("<bos> Q : what is 1 plus 1 ? A : 2 . <eos> Q".split())


def test_sampled_texts_of_the_world_never_derail_and_a_shuffled_one_does():
    for d in corpus.sample(200, seed=12):
        shuffled = [corpus.BOS, *reversed(d.words[1:-1]), corpus.EOS]
        assert corpus.parse(shuffled).derailed_at == 1  # it starts with the last word of the answer, not 'Q'
