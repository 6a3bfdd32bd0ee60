"""Notebook 07's figures draw what they are given, with a label on every axis."""
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from course_utils import onpolicy_study, plots, stats  # noqa: E402


def labelled(fig):
    for ax in fig.axes:
        assert ax.get_xlabel() and ax.get_ylabel(), f"an unlabelled panel: {ax.get_title()!r}"
    plt.close(fig)


def test_exposure_figure():
    L = 35
    e = onpolicy_study.Exposure(0.05, 0.05, 0.4, 0.0, 0.04, 0.5, 0.6, [1 - i / 100 for i in range(L)], [1.0] * L,
                                [0.05] * L, [100] * L, [0.05] * L, [100] * L, [math.nan] * 10 + [0.5] * 25,
                                [0] * 10 + [50] * 25, ["<bos> Q : [the]"])
    labelled(plots.plot_exposure(e))


def test_students_paired_and_bump_figures():
    per = {n: {m: [0.1, 0.2, 0.15] for m in plots.on_policy.METRICS} for n in onpolicy_study.STUDENTS}
    labelled(plots.plot_policy_students(per, title="t"))
    summaries = {n: stats.paired_summary([0.01, 0.02, 0.015]) for n in ("on_policy", "mixed", "reverse_kl")}
    summaries["mixed"] = stats.paired_summary([0.01])  # one seed: no interval, still drawn
    labelled(plots.plot_policy_paired(summaries, "on_policy", "difference"))
    fits = {"forward": [onpolicy_study.fit_bump("forward", 0, steps=5)]}
    labelled(plots.plot_bump(onpolicy_study.BUMP_WORDS, onpolicy_study.BUMP_TEACHER, fits))
