"""The figures of notebooks 00, 02, 03 and 04 show what they are given."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from course_utils import metrics, plots, stats, train  # noqa: E402


def test_figures_are_built():
    imgs = torch.randint(0, 256, (6, 3, 32, 32), dtype=torch.uint8)
    labels = torch.tensor([0, 1, 2, 3, 4, 5])
    fig = plots.image_grid(imgs, labels, ncols=3, title="t")
    assert [ax.get_title() for ax in fig.axes] == ["airplane", "automobile", "bird", "cat", "deer", "dog"]
    assert (fig.axes[4].images[0].get_array() == imgs[4].permute(1, 2, 0).numpy()).all()  # each image in its place
    probs = torch.softmax(torch.randn(6, 10, generator=torch.Generator().manual_seed(0)), 1)
    fig = plots.topk_gallery(imgs, probs, labels, k=3, ncols=2)
    bars = [p.get_width() for p in fig.axes[1].patches]  # the first image's top-3 probabilities, as bars
    assert sorted(bars, reverse=True) == pytest.approx(probs[0].topk(3).values.tolist(), abs=1e-6) or \
        sorted(bars, reverse=True) == pytest.approx((100 * probs[0].topk(3).values).tolist(), abs=1e-4)
    h = train.History(epoch=[1, 2], train_loss=[2.0, 1.0], train_acc=[0.3, 0.5], test_acc=[0.4, 0.6], seconds=[1, 2])
    fig = plots.plot_history({"a": h})
    assert len(fig.axes[1].lines) == 2
    fig = plots.plot_confusion(metrics.confusion(probs.argmax(1), labels))
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


def test_notebook_04_figures_are_built():
    points = {"0": {"acc": [0.3, 0.32], "fid": [0.31, 0.33]}, "250": {"acc": [0.4, 0.44], "fid": [0.41, 0.45]}}
    fig = plots.plot_copies(points, teacher_acc=0.9, floor="0", title="t")
    acc, fid = fig.axes

    def drawn(ax, ys):
        return any(len(line.get_ydata()) == len(ys) and np.allclose(line.get_ydata(), ys) for line in ax.lines)
    assert acc.get_ylim() == (0, 100) and drawn(acc, [90, 90])  # the teacher, inside the axes
    assert drawn(acc, [31.0, 42.0])  # seed means, in %
    assert drawn(fid, [32.0, 32.0])  # the floor: the own student
    assert acc.get_ylabel() and fid.get_ylabel() and acc.get_xlabel()
    plt.close(fig)
    fig = plots.plot_paired({"a": [0.3, 0.4], "b": [0.35, 0.45]}, "accuracy (%)", "t", references=[(0.9, "teacher")],
                             xlabel="exposure")
    assert fig.axes[0].get_xlabel() == "exposure"
    assert [p.get_height() for p in fig.axes[0].patches] == pytest.approx([35.0, 40.0])
    plt.close(fig)
    fig = plots.plot_grouped({"a": {"probs": [0.3, 0.4], "label": [0.2, 0.25]}, "b": {"probs": [0.1, 0.1]}},
                             ylabel="%", title="t", reference=0.9)
    plt.close(fig)
    rows = [{"teacher": "weak", "teacher_acc": 0.3, "copy_acc": [0.25, 0.27], "copy_fid": [0.6, 0.62],
             "floor_acc": [0.35, 0.37], "floor_fid": [0.3, 0.32], "twin_agreement": 0.4},
            {"teacher": "strong", "teacher_acc": 0.9, "copy_acc": [0.8, 0.82], "copy_fid": [0.9, 0.91],
             "floor_acc": [0.35, 0.37], "floor_fid": [0.36, 0.38], "twin_agreement": None}]  # no twin: quick's course teacher
    fig = plots.plot_teacher_cap(rows)
    texts = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    assert "weak" in texts and "strong" in texts
    twin = [line for line in fig.axes[1].lines if line.get_marker() == "x"]
    assert len(twin) == 1 and list(twin[0].get_ydata()) == [40.0]  # one cross, in %
    floor = [line for line in fig.axes[1].lines if line.get_marker() == "D"]
    assert len(floor) == 1 and list(floor[0].get_ydata()) == pytest.approx([31.0, 37.0])  # the floor per teacher
    plt.close(fig)


def test_language_model_figures_show_their_numbers():
    kl = {"no_teacher": [0.09, 0.08], "token_level": [0.06, 0.07]}
    fig = plots.plot_kl(kl, teacher_kl=0.003)
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights == pytest.approx([0.085, 0.065])
    fig = plots.plot_budget_sweep([1000, 4000], {"sequence_level": np.array([[0.09, 0.1], [0.07, 0.06]])},
                                  reference=("token level", 0.05))
    line, level = fig.axes[0].lines
    assert level.get_ydata()[0] == pytest.approx(0.05)
    assert line.get_ydata() == pytest.approx([0.095, 0.065])
    fig = plots.plot_behaviour({"style": {"teacher": [0.8], "top_k": [0.5, 0.7]}})
    assert [p.get_height() for p in fig.axes[0].patches] == pytest.approx([80, 60])
    plt.close("all")


def test_no_figure_name_is_imported_twice():
    """Two submodules with a figure of the same name: the later import would silently replace the earlier one."""
    import ast
    from pathlib import Path

    tree = ast.parse((Path(plots.__file__)).read_text())
    names = [a.asname or a.name for node in tree.body if isinstance(node, ast.ImportFrom) for a in node.names]
    twice = sorted({n for n in names if names.count(n) > 1})
    assert not twice, f"course_utils.plots imports {twice} from two submodules: rename one"
    assert len(plots.__all__) == len(set(plots.__all__)), "plots.__all__ names a figure twice"
