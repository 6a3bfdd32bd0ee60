"""The maths of course_utils.losses against hand-written float64 references, and its errors."""
import math

import pytest
import torch

from course_utils import losses


def ref_softmax(z, T):  # float64, straight from the formula p_i = exp(z_i/T) / sum_j exp(z_j/T)
    z = [float(v) / T for v in z]
    m = max(z)
    e = [math.exp(v - m) for v in z]
    return [v / sum(e) for v in e]


def ref_kd(s_logits, t_logits, labels, T, alpha):
    """alpha * CE + (1 - alpha) * T^2 * KL(p_t || p_s), batch mean, in float64 by hand."""
    total = 0.0
    for s, t, y in zip(s_logits.tolist(), t_logits.tolist(), labels.tolist()):
        p1 = ref_softmax(s, 1.0)
        ce = -math.log(p1[y])
        ps, pt = ref_softmax(s, T), ref_softmax(t, T)
        kl = sum(a * (math.log(a) - math.log(b)) for a, b in zip(pt, ps))
        total += alpha * ce + (1 - alpha) * T * T * kl
    return total / len(labels)


@pytest.mark.parametrize("T", [0.5, 1.0, 2.0, 7.0])
def test_softmax_with_temperature_matches_formula(T):
    z = torch.randn(4, 6, dtype=torch.float64) * 3
    p = losses.softmax_with_temperature(z, T)
    for row, prow in zip(z.tolist(), p.tolist()):
        assert prow == pytest.approx(ref_softmax(row, T), rel=1e-12, abs=1e-15)


def test_softmax_is_stable_for_huge_logits_and_tiny_T():
    z = torch.tensor([[1e4, 0.0, -1e4], [5.0, 4.0, 3.0]])
    p = losses.softmax_with_temperature(z, 1e-3)
    assert torch.isfinite(p).all()
    assert torch.allclose(p, torch.tensor([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]))
    hot = losses.softmax_with_temperature(z[1:], 1e6)
    assert torch.allclose(hot, torch.full((1, 3), 1 / 3), atol=1e-6)


@pytest.mark.parametrize("T,alpha", [(1.0, 0.5), (2.0, 0.5), (4.0, 0.1), (20.0, 0.9), (3.0, 0.0), (3.0, 1.0)])
def test_distillation_loss_matches_float64_reference(T, alpha):
    g = torch.Generator().manual_seed(0)
    s = torch.randn(8, 10, generator=g, dtype=torch.float64) * 2
    t = torch.randn(8, 10, generator=g, dtype=torch.float64) * 4
    y = torch.randint(0, 10, (8,), generator=g)
    got = losses.distillation_loss(s, t, y, T=T, alpha=alpha).item()
    assert got == pytest.approx(ref_kd(s, t, y, T, alpha), rel=1e-10)


def test_soft_and_hard_parts_add_up():
    s, t, y = torch.randn(5, 10, dtype=torch.float64), torch.randn(5, 10, dtype=torch.float64), torch.arange(5)
    blended = losses.distillation_loss(s, t, y, T=3.0, alpha=0.3)
    parts = 0.3 * losses.hard_loss(s, y) + 0.7 * losses.soft_loss(s, t, T=3.0)
    assert torch.allclose(blended, parts)
    assert losses.soft_loss(t, t, T=3.0).item() == pytest.approx(0.0, abs=1e-12)  # KL(p || p) = 0


def test_no_gradient_reaches_the_teacher():
    s = torch.randn(4, 10, requires_grad=True)
    t = torch.randn(4, 10, requires_grad=True)
    losses.distillation_loss(s, t, torch.arange(4), T=4.0, alpha=0.5).backward()
    assert s.grad is not None and s.grad.abs().sum() > 0
    assert t.grad is None


@pytest.mark.parametrize("T", [1.0, 4.0, 10.0])
def test_soft_gradient_is_T_times_prob_difference(T):
    """d/dz_s of T^2 KL(p_t || p_s) = T (p_s - p_t) / B: the 1/T of the chain rule times T^2."""
    s = torch.randn(3, 10, dtype=torch.float64, requires_grad=True)
    t = torch.randn(3, 10, dtype=torch.float64)
    losses.soft_loss(s, t, T=T).backward()
    expected = T * (losses.softmax_with_temperature(s.detach(), T) - losses.softmax_with_temperature(t, T)) / 3
    assert torch.allclose(s.grad, expected, atol=1e-12)


def test_soft_target_and_label_smoothing_losses():
    s = torch.randn(6, 10, dtype=torch.float64)
    y = torch.randint(0, 10, (6,))
    onehot = torch.nn.functional.one_hot(y, 10).double()
    assert torch.allclose(losses.soft_target_loss(s, onehot), losses.hard_loss(s, y))
    smooth = 0.9 * onehot + 0.1 / 10
    assert torch.allclose(losses.label_smoothing_loss(s, y, 0.1), losses.soft_target_loss(s, smooth))


def test_entropy():
    assert losses.entropy(torch.full((4,), 0.25)).item() == pytest.approx(math.log(4))
    assert losses.entropy(torch.tensor([1.0, 0.0])).item() == pytest.approx(0.0)


# ----------------------------------------------------------------------------- every bad input reads well

S, Y = torch.randn(4, 10), torch.tensor([0, 1, 2, 3])


@pytest.mark.parametrize("T", [0, -1.0, float("nan"), float("inf"), "2"])
def test_bad_temperature(T):
    with pytest.raises(ValueError, match=r"temperature T must be a finite number > 0, got"):
        losses.distillation_loss(S, S, Y, T=T)
    with pytest.raises(ValueError, match=r"temperature T must be a finite number > 0"):
        losses.softmax_with_temperature(S, T)


@pytest.mark.parametrize("alpha", [-0.1, 1.5, float("nan")])
def test_bad_alpha(alpha):
    with pytest.raises(ValueError, match=r"alpha must be a number in \[0, 1\] .*got"):
        losses.distillation_loss(S, S, Y, alpha=alpha)


def test_shape_mismatch():
    with pytest.raises(ValueError, match=r"same shape .* got student \(4, 10\) and teacher \(4, 9\)"):
        losses.distillation_loss(S, torch.randn(4, 9), Y)
    with pytest.raises(ValueError, match=r"student_logits must be a tensor shaped \(batch, classes\), got \(10,\)"):
        losses.soft_loss(torch.randn(10), torch.randn(10))


def test_labels_of_the_wrong_length_or_range():
    with pytest.raises(ValueError, match=r"labels must be a 1-D tensor of 4 class indices .* got \(3,\)"):
        losses.distillation_loss(S, S, Y[:3])
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 9\] for 10 classes, got values from 0 to 10"):
        losses.distillation_loss(S, S, torch.tensor([0, 1, 2, 10]))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 9\] .* from -1 to 2"):
        losses.hard_loss(S, torch.tensor([-1, 0, 1, 2]))
    with pytest.raises(ValueError, match=r"labels must be integer class indices, got dtype torch.float32"):
        losses.hard_loss(S, Y.float())


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_logits(bad):
    s = S.clone()
    s[1, 2] = bad
    with pytest.raises(ValueError, match=r"student_logits contain 1 non-finite values"):
        losses.distillation_loss(s, S, Y)
    with pytest.raises(ValueError, match=r"teacher_logits contain 1 non-finite values"):
        losses.distillation_loss(S, s, Y)


def test_fast_checks_skip_only_value_checks():
    s = S.clone()
    s[0, 0] = float("nan")
    with losses.fast_checks():
        losses.hard_loss(s, Y)  # no host read-back: NaN passes here, fit() checks the loss per epoch
        with pytest.raises(ValueError, match="same shape"):
            losses.distillation_loss(S, torch.randn(4, 9), Y)
    with pytest.raises(ValueError, match="non-finite"):
        losses.hard_loss(s, Y)
