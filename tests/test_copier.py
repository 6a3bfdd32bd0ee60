"""The copier's side of black-box distillation: collecting answers, reading them, turning them into targets."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from course_utils import checks, copier, data, losses, stats
from course_utils.server import BudgetExceeded, TEXT_TEMPLATES, TeacherAPI, TopK
from test_server import C, _images, model  # noqa: F401  (model: the server tests' counting net, a fixture)


def test_collect_refuses_whole_and_joins_chunks(model):
    x = _images(25)
    api = TeacherAPI(model, "text", budget=20)
    with pytest.raises(BudgetExceeded):
        copier.collect(api, x, chunk=10)
    assert api.queries_used == 0
    api = TeacherAPI(model, "text", budget=25)
    assert copier.collect(api, x, chunk=10) == TeacherAPI(model, "text").query(x)
    assert api.remaining == 0
    api = TeacherAPI(model, "top_k", budget=25)
    got, want = copier.collect(api, x, chunk=7), TeacherAPI(model, "top_k").query(x)
    assert torch.equal(got.classes, want.classes) and torch.equal(got.probs, want.probs)


def test_parse_text_reads_every_template_and_refuses_the_unreadable():
    sentences = [t.format(a=("an" if c[0] in "aeiou" else "a"), name=c) for c in data.CLASSES for t in TEXT_TEMPLATES]
    want = torch.tensor([i for i in range(C) for _ in TEXT_TEMPLATES])
    assert torch.equal(copier.parse_text(sentences), want)
    assert copier.parse_text(["Two CATS, I think."]).tolist() == [3]
    with pytest.raises(ValueError, match="could not read answer 1: 'I am not sure.' holds no class name"):
        copier.parse_text(["A dog.", "I am not sure."])
    with pytest.raises(ValueError, match="2 class names"):
        copier.parse_text(["A cat or a dog."])
    with pytest.raises(ValueError, match="no class name"):
        copier.parse_text(["That looks like a category."])  # "cat" inside a word does not count
    with pytest.raises(TypeError, match="list of sentences"):
        copier.parse_text("A dog.")


def test_to_targets_top_k_spreads_the_hidden_mass_evenly():
    ans = TopK(torch.tensor([[3, 5]]), torch.tensor([[0.6, 0.3]]))
    p = copier.to_targets(ans, "top_k")
    assert p.shape == (1, C) and math.isclose(p.sum().item(), 1.0, rel_tol=1e-6)
    assert math.isclose(p[0, 3].item(), 0.6, rel_tol=1e-6) and math.isclose(p[0, 5].item(), 0.3, rel_tol=1e-6)
    hidden = p[0, [i for i in range(C) if i not in (3, 5)]]
    assert torch.allclose(hidden, torch.full((8,), 0.1 / 8))


def test_to_targets_probs_at_T_recovers_softened_logits():
    z = torch.randn(6, C, generator=torch.Generator().manual_seed(0)) * 3
    p = torch.softmax(z, 1)
    for T in (1.0, 2.0, 4.0):
        assert torch.allclose(copier.to_targets(p, "probs", T=T), losses.softmax_with_temperature(z, T), atol=1e-5)
        assert torch.allclose(copier.to_targets(z, "logits", T=T), losses.softmax_with_temperature(z, T), atol=1e-6)
    rounded = torch.round(p, decimals=1)
    assert torch.allclose(copier.to_targets(rounded, "probs").sum(1), torch.ones(6))  # renormalised


def test_to_targets_labels_and_text():
    labels = torch.tensor([1, 2, 3])
    assert torch.equal(copier.to_targets(labels, "label"), labels)
    assert copier.to_targets(["A bird.", "A cat!", "Looks like an airplane to me."], "text").tolist() == [2, 3, 0]
    with pytest.raises(ValueError, match="unknown exposure"):
        copier.to_targets(labels, "vibes")
    with pytest.raises(ValueError, match="TopK"):
        copier.to_targets(labels, "top_k")


def test_student_loss_dispatches_on_the_targets():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(5, C, generator=g, dtype=torch.float64)
    y = torch.randint(0, C, (5,), generator=g)
    assert torch.allclose(copier.student_loss()(z, y), nn.functional.cross_entropy(z, y))
    t = torch.softmax(torch.randn(5, C, generator=g, dtype=torch.float64), 1)
    T = 2.0
    want = T ** 2 * -(t * torch.log_softmax(z / T, 1)).sum(1).mean()
    assert torch.allclose(copier.student_loss(T)(z, t), want)


def test_take():
    ans = TopK(torch.arange(10).view(5, 2), torch.rand(5, 2))
    assert torch.equal(copier.take(ans, slice(0, 2)).classes, ans.classes[:2])
    assert copier.take(["a", "b", "c"], torch.tensor([2, 0])) == ["c", "a"]


def test_checkers_accept_the_reference_and_reject_wrong_answers(capsys):
    assert checks.topk_to_probs(lambda ans, C: copier.to_targets(ans, "top_k", num_classes=C))
    assert not checks.topk_to_probs(lambda ans, C: torch.zeros(2, C))
    labels, teacher = torch.tensor([0, 1, 2, 3]), torch.tensor([0, 1, 9, 9])
    student = torch.tensor([0, 1, 9, 3])
    assert checks.same_mistake_rate(0.5, student, teacher, labels)
    assert not checks.same_mistake_rate(0.9, student, teacher, labels)
    assert not checks.same_mistake_rate(50, student, teacher, labels)
    assert "not a percentage" in capsys.readouterr().out
    measured = {"label": {1000: [0.5, 0.5], 10_000: [0.8, 0.8]}, "probs": {1000: [0.6, 0.6], 10_000: [0.85, 0.85]}}
    prices = {"label": 1.0, "probs": 10.0}
    assert checks.buy_exposure("label", measured, prices, money=10)  # 10k labels beat 1k probs
    assert not checks.buy_exposure("probs", measured, prices, money=10)
    assert "Not yet" in capsys.readouterr().out
    close = {"label": {10_000: [0.842, 0.846]}, "probs": {10_000: [0.85, 0.85]}}
    cheap = {"label": 1.0, "probs": 1.0}  # same price: probs leads by 0.6 points, within the default tie of 1 point
    assert checks.buy_exposure("label", close, cheap, money=10)
    assert "Not told apart from probs" in capsys.readouterr().out
    assert not checks.buy_exposure("label", close, cheap, money=10, tie=0.001)
    capsys.readouterr()
    assert not checks.buy_exposure("label", close, cheap, money=5)  # a budget the run did not measure
    assert "not measured" in capsys.readouterr().out


def test_a_prediction_is_checked_against_the_runs_interval(capsys):
    up, flat = stats.paired_summary([0.02, 0.03, 0.025]), stats.paired_summary([0.02, -0.03, 0.01])
    assert checks.predicted_direction("higher", lambda: up, "T = 4 minus T = 2")
    assert not checks.predicted_direction("lower", up, "T = 4 minus T = 2")
    assert checks.predicted_direction("cannot tell", flat, "x")
    assert not checks.predicted_direction("higher", flat, "x")
    assert not checks.predicted_direction(None, flat, "x") and not checks.predicted_direction("up", flat, "x")
    assert "choose one of" in capsys.readouterr().out


def test_the_quizzes_accept_their_answers_and_explain_the_others(capsys):
    from course_utils.checks.blackbox import QUIZZES
    for notebook, questions in QUIZZES.items():
        quiz = getattr(checks, f"quiz_{notebook}")
        assert quiz({n: q[0] for n, q in questions.items()})
        wrong = {n: sorted(q[2])[0] for n, q in questions.items()}
        assert not quiz(wrong)
        assert not quiz({1: "a"})  # every question must be answered
    assert "0 of 3 right" in capsys.readouterr().out
