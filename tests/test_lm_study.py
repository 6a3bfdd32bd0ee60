"""Notebook 06's study: the text API's budget and top-k answers, the copier's targets, the probes (on an n-gram
model fitted by counting, no training needed), the run records and their readings, the full profile's code path
shrunk to seconds, and the notebook's checkers."""
from dataclasses import replace

import pytest
import torch
import torch.nn as nn

from course_utils import checks, corpus, lm, lm_study, server, stats, text_api

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
    x, _ = lm_study.student_data("written_only", transfer, "cpu")
    assert torch.equal(x, transfer.bought.inputs)
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


def test_the_written_only_student_gets_the_teacher_where_the_api_wrote_and_its_own_words_elsewhere(lab_ngram):
    study = replace(lm_study.get_study("quick"), budget_words=200, top_k=3)
    transfer = lm_study.prepare(lab_ngram, study, study.budget_words)
    z = torch.randn(*transfer.bought.inputs.shape, V, requires_grad=True)
    rows = torch.arange(len(z))
    _, loss_fn = lm_study.student_data("written_only", transfer, "cpu")
    y, written = transfer.bought.targets, transfer.written
    one_hot = torch.nn.functional.one_hot(y.clamp_min(0), V).float()
    want = torch.where(written.unsqueeze(-1), transfer.teacher_probs, one_hot)
    assert torch.allclose(loss_fn(z, rows), lm.soft_token_loss(z, want, y))
    questions = (y != lm.IGNORE) & ~written
    assert questions.any() and written.any()
    assert not torch.allclose(want[questions], transfer.teacher_probs[questions])  # the white-box view differs there


def test_a_purchase_is_spent_without_passing_the_budget_and_its_prefix_is_a_smaller_purchase(lab_ngram):
    api = lm_study.TextAPI(lab_ngram, budget=1_000, seed=2)
    replies = lm_study.buy(api, seed=2)
    assert 950 <= api.spent <= 1_000 and api.spent == sum(r.written for r in replies)
    first = text_api.first_words(replies, 400)
    assert first == replies[:len(first)] and 360 <= sum(r.written for r in first) <= 400
    assert sum(r.written for r in replies[:len(first) + 1]) > 400
    with pytest.raises(ValueError, match="chunk"):
        lm_study.buy(lm_study.TextAPI(lab_ngram, budget=10), seed=0, chunk=0)


def test_sums_asked_reads_the_questions_of_a_text():
    dialogues = corpus.sample(40, seed=8)
    asked = lm_study.sums_asked(corpus.to_batch(dialogues, with_truth=False))
    want = torch.zeros(10, 10, dtype=torch.bool)
    for d in dialogues:
        if d.words[3] == "what":
            want[int(d.words[5]), int(d.words[7])] = True
    assert want.any() and torch.equal(asked, want)


def test_counting_models_answer_the_sums_their_text_held(world_ngram):
    right = lm_study.sums_right(world_ngram)
    assert right.shape == (10, 10) and right.float().mean() > 0.9  # 3,000 world dialogues held nearly every sum
    assert lm_study.capability(world_ngram) == pytest.approx(
        torch.cat([right.flatten(), lm_study.facts_right(world_ngram)]).float().mean().item())


def records():
    """Student records of two seeds, made up: numbers chosen so each summary is known."""
    rows = []
    for seed, (kl_a, kl_b, seen, unseen) in enumerate([(0.10, 0.07, 0.5, 0.1), (0.12, 0.08, 0.7, 0.2),
                                                       (0.11, 0.09, 0.6, 0.0)]):
        for name, kl in (("sequence_level", kl_a), ("written_only", kl_b)):
            rows.append(lm_study.StudentRun(name, seed, 100, kl, 0.9, 0.3, 0.8, 0.9, 0.7, seen, unseen, 1.0))
    return rows


def test_records_become_per_seed_lists_tables_and_paired_differences():
    recs = records()
    kl = lm_study.per_seed(recs, "kl_to_truth")
    assert kl == {"sequence_level": [0.10, 0.12, 0.11], "written_only": [0.07, 0.08, 0.09]}
    rows = lm_study.table_rows(recs)
    assert [r["student"] for r in rows] == ["sequence_level", "written_only"] and rows[0]["kl_to_truth"] == kl["sequence_level"]
    gap = lm_study.differences(recs, "kl_to_truth", {"a - b": ("sequence_level", "written_only")})[0]
    want = stats.paired([0.10, 0.12, 0.11], [0.07, 0.08, 0.09])
    assert gap["mean"] == pytest.approx(want["mean"]) and gap["lo"] == pytest.approx(want["lo"])
    assert gap["points"] == pytest.approx(100 * want["mean"])
    assert gap["verdict"] == "interval above zero: the first is further from the truth"  # a higher KL is worse
    split = lm_study.seen_minus_unseen(recs)
    assert [r["difference"] for r in split] == ["sequence_level: seen - unseen", "written_only: seen - unseen"]
    assert split[0]["mean"] == pytest.approx(0.5)
    study = lm_study.get_study("quick")
    assert lm_study.primary(lm_study.Run(recs, []), study)["mean"] == pytest.approx(want["mean"])


def test_the_full_profiles_code_path_runs_end_to_end_shrunk():
    """The full profile's study (its teacher and student sizes) through every function the notebook calls, with
    the data, steps and seeds shrunk to seconds on a CPU."""
    full = lm_study.get_study("full")
    study = replace(full, teacher_dialogues=300, teacher_steps=3, student_steps=2, batch_size=4, seeds=2,
                    budget_words=150, budget_sweep=(150, 300), test_dialogues=20, probes=4)
    teacher = lm_study.train_teacher(study, "cpu")
    assert teacher.params == lm.count_params(lm.TinyGPT(full.teacher)) and not teacher.model.training
    run = lm_study.run_students(teacher.model, study, "cpu", progress=False)
    assert len(run.students) == study.seeds * len(study.students) == 10
    assert sorted({(r.budget, r.seed) for r in run.sweep}) == [(150, 0), (150, 1), (300, 0), (300, 1)]
    assert all(r.words_bought <= r.budget for r in run.sweep) and all(r.words_bought <= 150 for r in run.students)
    record = lm_study.results_record(teacher, run, study)
    assert set(record["students"]) == set(study.students)
    assert set(record["students"]["written_only"]["kl_to_truth"]) == {"mean", "lo", "hi"}
    assert record["primary"]["seeds"] == 2
    assert len(lm_study.capability_readings(run)) == len(lm_study.sweep_readings(run, study)) == 2
    assert set(lm_study.behaviour(run, teacher)["sums not in its text"]) == {"teacher", *study.students}
    effect = lm_study.compare_top_k(teacher.model, study, 6, "cpu", seeds=2)
    assert effect.k == 6 and effect.base_k == 5 and len(effect.kl_k) == len(effect.kl_base) == 2
    assert effect.steps == 1 and effect.difference["n"] == 2


# ----------------------------------------------------------------------------- the notebook's checkers

def test_the_wider_top_k_checker_asks_for_a_prediction_and_a_new_k_before_it_runs(capsys, monkeypatch):
    ran = []
    monkeypatch.setattr(lm_study, "compare_top_k", lambda *a, **k: ran.append(1))
    study = lm_study.get_study("quick")
    for bad in (None, float("nan"), "maybe", ["closer"]):
        assert not checks.wider_top_k(bad, 6, object(), study)
    assert not checks.wider_top_k("closer", study.top_k, object(), study)
    assert not checks.wider_top_k("closer", 6)
    out = capsys.readouterr().out
    assert out.count("Not yet") == 6 and "my_k" in out and not ran


@pytest.mark.parametrize("kl_k, verdict", [([0.05, 0.06, 0.05], "closer"), ([0.09, 0.095, 0.085], "further"),
                                           ([0.06, 0.09, 0.07], "same")])
def test_the_wider_top_k_checker_judges_the_prediction_by_the_measured_interval(kl_k, verdict, monkeypatch, capsys):
    effect = lm_study.TopKEffect(6, 5, 150, kl_k, [0.08, 0.08, 0.075])
    monkeypatch.setattr(lm_study, "compare_top_k", lambda *a, **k: effect)
    study = lm_study.get_study("quick")
    for guess in ("closer", "further", "same"):
        assert checks.wider_top_k(guess, 6, object(), study) == (guess == verdict)
    assert f'("{verdict}")' in capsys.readouterr().out


def test_the_quiz_checks_each_answer(capsys):
    assert checks.lm_quiz({1: "a", 2: "b", 3: "c", 4: "b"})
    assert not checks.lm_quiz({1: "a", 2: "a", 3: "c", 4: "b"})
    assert "not random" in capsys.readouterr().out  # question 2's explanation of the wrong reading
    for bad in (None, {1: "a"}, float("nan"), ["a", "b", "c", "b"]):
        assert not checks.lm_quiz(bad)
    assert "one letter per question" in capsys.readouterr().out


def test_measures_at_once_equal_each_probe_alone(lab_ngram, world_ngram):
    test = corpus.to_batch(corpus.sample(100, seed=6))
    m, right = lm_study.measures(world_ngram, lab_ngram, test, probes=20, seed=1)
    assert m.kl_to_truth == lm_study.kl_to_truth(world_ngram, test)
    assert m.agreement == lm_study.top_word_agreement(world_ngram, lab_ngram, test) == lm_study.agreement(world_ngram, lab_ngram, test)
    assert m.capability == pytest.approx(lm_study.capability(world_ngram)) and torch.equal(right, lm_study.sums_right(world_ngram))
    assert m.style == lm_study.style_rate(world_ngram, 20, 1) and m.identity_quirk == lm_study.identity_quirk_rate(world_ngram, 20, 1)
