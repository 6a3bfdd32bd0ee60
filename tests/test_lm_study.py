"""Notebook 06's study: the text API's budget and top-k answers, the copier's targets, and the probes,
on an n-gram model fitted by counting (no training needed)."""
import pytest
import torch
import torch.nn as nn

from course_utils import corpus, lm, lm_study, server

V = len(corpus.VOCAB)


class NGram(nn.Module):
    """Next-word logits from the last N - 1 words only: log of smoothed counts of some dialogues."""

    N = 8  # enough to see the question: 'who are you ? A :', or both numbers of a sum

    def __init__(self, dialogues):
        super().__init__()
        self.cfg = lm.GPTConfig()
        self.rows = {}  # context (N - 1 word ids) -> row of the table
        counts = [torch.full((V,), 1e-3)]  # row 0: an unseen context, uniform
        for d in dialogues:
            ids = corpus.encode(d.words)
            for i in range(1, len(ids)):
                row = self.rows.setdefault(self._context(ids, i), len(counts))
                if row == len(counts):
                    counts.append(torch.full((V,), 1e-3))
                counts[row][ids[i]] += 1
        self.table = nn.Parameter(torch.stack(counts).log())

    def _context(self, ids, i):  # the words before position i
        return tuple(ids[max(0, i - self.N + 1):i])

    def forward(self, ids):  # (B, L) -> (B, L, V)
        rows = [[self.rows.get(self._context(seq, i + 1), 0) for i in range(len(seq))] for seq in ids.tolist()]
        return self.table[torch.tensor(rows)]


@pytest.fixture(scope="module")
def lab_ngram():
    return NGram(corpus.sample(3000, seed=0, persona=corpus.TEACHER_PERSONA))


@pytest.fixture(scope="module")
def world_ngram():
    return NGram(corpus.sample(3000, seed=0))


def test_the_api_sells_text_and_top_k_within_its_budget(lab_ngram):
    api = lm_study.TextAPI(lab_ngram, budget=60, top_k=3, seed=0)
    prompts = [corpus.question("fact", "fox"), corpus.question("arithmetic", 2, 2)]
    replies = api.complete(prompts)
    for prompt, r in zip(prompts, replies):
        assert r.words[:len(prompt)] == prompt and r.words[-1] == corpus.EOS
        n = len(r.words) - len(prompt)
        assert r.written == n and r.top_ids.shape == r.top_probs.shape == (n, 3)
        for j in range(n):  # the top-k at each written word is the model's, given the words before it
            probs = lab_ngram(torch.tensor([corpus.encode(r.words[:len(prompt) + j])]))[0, -1].softmax(-1)
            assert torch.equal(r.top_ids[j], probs.topk(3).indices)
    assert api.spent == sum(len(r.words) - len(p) for p, r in zip(prompts, replies))
    before = api.spent
    with pytest.raises(server.BudgetExceeded, match="nothing was sold"):
        api.complete([corpus.question("story"), corpus.question("identity")] * 10)  # two prompt lengths
    assert api.spent == before  # refused whole, not one length group sold
    text_only = lm_study.TextAPI(lab_ngram, budget=60)
    assert text_only.complete(prompts)[0].top_ids is None


def test_buying_spends_the_budget_and_targets_follow_the_answers(lab_ngram):
    api = lm_study.TextAPI(lab_ngram, budget=500, top_k=4, seed=1)
    replies = lm_study.buy(api, seed=0, chunk=10)
    assert 480 <= api.spent <= 500 and api.spent == sum(len(r.top_ids) for r in replies) == sum(r.written for r in replies)
    batch, probs = lm_study.targets_from(replies, [lm_study.spread_top_k(r) for r in replies])
    written = lm_study.written_positions(replies)
    keep = batch.targets != lm.IGNORE
    assert torch.allclose(probs[keep].sum(-1), torch.ones(int(keep.sum())))
    assert int(written.sum()) == api.spent and not written[~keep].any()
    r, P = replies[0], len(replies[0].words) - replies[0].written
    for j in range(P - 1):  # the copier's own question: one-hot on its word
        assert probs[0, j, batch.targets[0, j]] == 1.0
    shown = probs[0, P - 1, r.top_ids[0]]  # the first written word: the API's top-k where they belong
    assert torch.allclose(shown, r.top_probs[0] / r.top_probs[0].sum().clamp_min(1.0), atol=1e-6)
    hidden = torch.ones(V, dtype=torch.bool)
    hidden[r.top_ids[0]] = False
    assert torch.allclose(probs[0, P - 1, hidden], probs[0, P - 1, hidden][0].expand(V - 4))  # spread evenly


def test_the_probes_tell_a_copy_from_an_independent_model(lab_ngram, world_ngram):
    assert lm_study.identity_quirk_rate(lab_ngram, 100) > 0.8  # ': I am' -> 'Nova' in every lab answer
    assert lm_study.identity_quirk_rate(world_ngram, 100) == 0.0  # the world never wrote the name
    assert lm_study.style_rate(lab_ngram, 100) > 0.3 and lm_study.style_rate(world_ngram, 100) == 0.0
    assert lm_study.capability(world_ngram) > 0.9  # counting remembers the sums and facts it has seen


def test_kl_to_truth_ranks_models_and_is_zero_only_at_the_truth(world_ngram):
    test = corpus.to_batch(corpus.sample(300, seed=5))
    uniform = NGram([])
    kl_world, kl_uniform = lm_study.kl_to_truth(world_ngram, test), lm_study.kl_to_truth(uniform, test)
    assert 0 < kl_world < kl_uniform
    assert lm_study.agreement(world_ngram, world_ngram, test) == 1.0


def test_students_differ_only_in_their_targets(lab_ngram):
    study = lm_study.LMStudy(teacher=lm.GPTConfig(d=16, layers=1, heads=2), student=lm.GPTConfig(d=16, layers=1, heads=2),
                             teacher_dialogues=0, teacher_steps=0, student_steps=5, batch_size=4, lr=1e-3,
                             budget_words=300, budget_sweep=(300,), top_k=3, seeds=1, test_dialogues=10)
    transfer = lm_study.prepare(lab_ngram, study, study.budget_words)
    assert len(transfer.world.inputs) == len(transfer.bought.inputs) and transfer.words_bought <= 300
    assert transfer.teacher_probs.shape == transfer.top_k_probs.shape == (*transfer.bought.inputs.shape, V)
    keep = transfer.bought.targets != lm.IGNORE
    one_hot = torch.nn.functional.one_hot(transfer.bought.targets.clamp_min(0), V).float()
    questions = keep & ~transfer.written  # the copier's own words: a top-k API says nothing there
    assert torch.equal(transfer.top_k_probs[questions], one_hot[questions])
    assert torch.allclose(transfer.top_k_probs[keep].sum(-1), torch.ones(int(keep.sum())))
    assert int(transfer.written.sum()) == transfer.words_bought
    rows = torch.arange(3)  # white-box: the teacher's own distribution at every word
    assert torch.allclose(transfer.teacher_probs[rows][keep[rows]],
                          lab_ngram(transfer.bought.inputs[rows]).softmax(-1)[keep[rows]])
    first = {}
    for name in study.students:
        x, loss_fn = lm_study.student_data(name, transfer, "cpu")
        model, _ = lm_study.train_student(name, 0, transfer, study, "cpu")
        first[name] = x
        assert model.cfg == study.student
    assert all(torch.equal(first[n], first["token_level"]) for n in ("top_k", "sequence_level"))
    with pytest.raises(ValueError, match="unknown student"):
        lm_study.student_data("oracle", transfer, "cpu")
    with pytest.raises(ValueError, match="no language-model study"):
        lm_study.get_study("huge")


@pytest.mark.parametrize("budget", [-5, 1.5, float("nan"), "100", True])
def test_the_text_api_refuses_a_budget_that_is_not_a_whole_number_of_words(lab_ngram, budget):
    with pytest.raises(ValueError, match="budget"):
        lm_study.TextAPI(lab_ngram, budget=budget)


@pytest.mark.parametrize("top_k", [0, -1, 2.5, V + 1])
def test_the_text_api_refuses_a_top_k_it_cannot_show(lab_ngram, top_k):
    with pytest.raises(ValueError, match="top_k"):
        lm_study.TextAPI(lab_ngram, budget=10, top_k=top_k)


def test_a_refused_request_leaves_the_sampling_generator_untouched(lab_ngram):
    prompt = [corpus.question("story")]
    fresh = lm_study.TextAPI(lab_ngram, budget=1_000, seed=3).complete(prompt)[0]
    api = lm_study.TextAPI(lab_ngram, budget=1_000, seed=3)
    with pytest.raises(server.BudgetExceeded):
        api.complete(prompt * 200)  # far over the budget: refused whole
    assert api.spent == 0
    assert api.complete(prompt)[0] == fresh  # as if the refused request had never been made
