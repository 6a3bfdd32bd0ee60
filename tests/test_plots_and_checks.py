"""The figure functions behind notebooks 00-03 return figures with the right content; checkers judge right."""
import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from course_utils import checks, plots, stats, train  # noqa: E402


def test_confusion_counts():
    pred, labels = torch.tensor([0, 1, 1, 2, 2, 2]), torch.tensor([0, 1, 2, 2, 2, 1])
    cm = plots.confusion(pred, labels, num_classes=3)
    assert cm.tolist() == [[1, 0, 0], [0, 1, 1], [0, 1, 2]]
    assert int(cm.sum()) == 6


def test_figures_are_built():
    imgs = torch.randint(0, 256, (6, 3, 32, 32), dtype=torch.uint8)
    labels = torch.tensor([0, 1, 2, 3, 4, 5])
    fig = plots.image_grid(imgs, labels, ncols=3, title="t")
    assert len(fig.axes) == 6 and fig.axes[0].get_title() == "airplane"
    probs = torch.softmax(torch.randn(6, 10), 1)
    fig = plots.topk_gallery(imgs, probs, labels, k=3, ncols=2)
    assert len(fig.axes) == 12
    h = train.History(epoch=[1, 2], train_loss=[2.0, 1.0], train_acc=[0.3, 0.5], test_acc=[0.4, 0.6], seconds=[1, 2])
    fig = plots.plot_history({"a": h})
    assert len(fig.axes[1].lines) == 2
    fig = plots.plot_confusion(plots.confusion(probs.argmax(1), labels))
    assert fig.axes[0].get_xlabel() == "predicted"
    cm = torch.tensor([[8, 2, 0], [1, 9, 0], [0, 0, 10]])
    img = plots.plot_confusion(cm, classes=["a", "b", "c"]).axes[0].images[0].get_array()
    assert img.mask[0, 0] and img[0, 1] == 20.0  # colours show the mistakes only: the diagonal is masked
    fig = plots.heatmap(np.array([[1.0, -2.0], [0.5, 3.0]]), ["a", "b"], ["x", "y"], "X", "Y", "T", center=0.0)
    assert [t.get_text() for t in fig.axes[0].texts] == ["1.0", "-2.0", "0.5", "3.0"]
    summary = {"kd": stats.paired_summary([0.01, 0.02, 0.015]), "ls": stats.paired_summary([-0.01, 0.0, 0.005])}
    fig = plots.paired_bars(summary, title="gains")
    kd_bar, ls_bar = fig.axes[0].patches
    assert kd_bar.get_fill() and kd_bar.get_hatch() is None  # interval above zero: a filled bar
    assert ls_bar.get_facecolor()[3] == 0 and ls_bar.get_hatch() == "//"  # interval includes zero: hollow, hatched
    fig = plots.heatmap(np.zeros((2, 2)), ["a", "b"], ["x", "y"], "X", "Y", "T", cbar_label="points", mark=(1, 0))
    assert len(fig.axes[0].patches) == 1 and fig.axes[1].get_ylabel() == "points"


def test_one_per_class():
    labels = torch.tensor([1, 0, 1, 0, 2])
    assert plots.one_per_class(None, labels).tolist() == [1, 0, 4]


def test_paired_summary_interval():
    s = stats.paired_summary([1.0, 2.0, 3.0])
    assert s["mean"] == 2.0 and s["n"] == 3
    assert s["lo"] == pytest.approx(2 - 4.302653 * 1 / np.sqrt(3), rel=1e-5)  # t(0.975, 2 dof) = 4.3027
    one = stats.paired_summary([0.5])
    assert one["n"] == 1 and np.isnan(one["lo"])
    with pytest.raises(ValueError, match="at least 2 values"):
        stats.t_interval([1.0])


def test_excludes_zero():
    assert stats.excludes_zero(stats.paired_summary([1.0, 1.1, 0.9]))  # interval above zero
    assert stats.excludes_zero(stats.paired_summary([-1.0, -1.1, -0.9]))  # below zero
    assert not stats.excludes_zero(stats.paired_summary([-1.0, 2.0, 3.0]))  # straddles zero
    assert not stats.excludes_zero(stats.paired_summary([0.5]))  # one seed: no interval


def test_checks_02(capsys):
    cm = torch.zeros(10, 10, dtype=torch.long)
    cm[3, 5], cm[5, 3], cm[1, 9] = 20, 15, 30
    assert checks.most_confused_pair(("cat", "dog"), cm)
    assert not checks.most_confused_pair(("automobile", "truck"), cm)
    assert "another pair has 35" in capsys.readouterr().out
    assert not checks.most_confused_pair(("cat", "wolf"), cm)
    probs = torch.tensor([[0.9, 0.1], [0.8, 0.2]])
    assert checks.calibration(0.85, "over", probs, 0.5)
    assert not checks.calibration(0.85, "under", probs, 0.5)
    assert checks.calibration(0.85, "calibrated", probs, 0.84)
    assert not checks.calibration(0.7, "over", probs, 0.5)
    assert not checks.calibration(85, "over", probs, 0.5)  # a percentage: told to give a probability


def test_checks_03(capsys):
    from course_utils import losses
    z_s, z_t = torch.tensor([[2.0, 1.0, 0.0]], dtype=torch.float64), torch.tensor([[3.0, 0.5, 0.0]], dtype=torch.float64)
    right = losses.soft_loss(z_s, z_t, T=2.0).item()
    assert checks.soft_term_by_hand(right)
    assert not checks.soft_term_by_hand(right / 4)
    assert "multiply by T^2" in capsys.readouterr().out
    assert checks.structure_or_softness("b")
    assert not checks.structure_or_softness("a")
    assert "softness, structure and its knowledge" in capsys.readouterr().out
    assert not checks.structure_or_softness(None) and not checks.structure_or_softness("e")
    capsys.readouterr()
    assert not checks.soft_term_by_hand(round(right, 2))  # too few decimals: told so
    assert "give at least 4 decimals" in capsys.readouterr().out
    p_t, log_p_s = torch.softmax(z_t / 2, -1), torch.log_softmax(z_s / 2, -1)
    assert not checks.soft_term_by_hand(-4 * (p_t * log_p_s).sum().item())  # cross-entropy, not KL
    assert "not the KL" in capsys.readouterr().out
