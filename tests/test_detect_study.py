"""Notebook 05's study: the suspects and their pools, the targets each learns, the decisions drawn from a panel's
answers (per suspect, per panel, the threshold rule, the seed-paired gap), and the full profile's code path end
to end on a tiny synthetic data set."""
import dataclasses
import math

import pytest
import torch

from course_utils import checks, data, detect_study, fingerprint, models, plots, replay, show, stats


def test_study_pools_are_disjoint_and_the_panel_is_as_designed():
    study = detect_study.get_study("quick")
    pool = detect_study.pools(50_000, study)
    sets = [set(v.tolist()) for v in pool.values()]
    assert all(len(s) == study.images for s in sets) and not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
    for profile in ("quick", "full"):
        groups = [s.group for s in detect_study.get_study(profile).suspects]
        assert groups.count("reference") >= 4  # the threshold rule's false-positive rate is at most 1/5
        assert groups.count("API copy") >= 10 and groups.count("independent") >= 8 and groups.count("white-box copy") >= 1
        names = [s.name for s in detect_study.get_study(profile).suspects]
        assert len(set(names)) == len(names)
    assert detect_study.get_study("demo") is study
    # every API copy has a twin: an independent model of the same seed on the same images, network and recipe
    twins = {s.seed for s in study.suspects if s.name.startswith("same images")}
    assert {s.seed for s in study.suspects if s.group == "API copy"} == twins
    rows = detect_study.roster(study)
    assert sum(r["models"] for r in rows) == len(study.suspects)
    with pytest.raises(ValueError, match="3 x"):
        detect_study.pools(2_000, study)


def test_the_pilot_shares_nothing_with_the_notebooks_run_but_the_design():
    study = detect_study.get_study("quick")
    pilot = detect_study.pilot(study)
    assert not {s.seed for s in study.suspects} & {s.seed for s in pilot.suspects}
    assert (pilot.secret, pilot.pool_seed, pilot.test_seed) != (study.secret, study.pool_seed, study.test_seed)
    assert [s.group for s in pilot.suspects] == [s.group for s in study.suspects]
    assert (pilot.images, pilot.epochs, pilot.watermark_share) == (study.images, study.epochs, study.watermark_share)
    assert pilot.suspects[0].name == "label copy 100"


def test_targets_follow_the_suspect():
    study = detect_study.get_study("quick")
    logits = torch.randn(6, 10)
    images = torch.randint(0, 256, (6, 3, 32, 32), dtype=torch.uint8)
    answers = detect_study.api_answers(logits, images, study)
    labels = torch.arange(6)
    by = {s.learns: s for s in study.suspects}
    assert torch.equal(detect_study.targets(by["truth"], labels, answers, logits, T=2.0), labels)
    assert torch.equal(detect_study.targets(by["api_label"], labels, answers, logits, T=2.0), answers["label"])
    soft = detect_study.targets(by["logits"], labels, answers, logits, T=2.0)
    assert torch.allclose(soft, torch.softmax(logits / 2, 1))
    stray = detect_study.Suspect("odd", "copy", "api_label", "other", 0)
    with pytest.raises(ValueError, match="pool='copier'"):
        detect_study.targets(stray, labels, answers, logits, T=2.0)


def _answers(name, group, learns, seed, wm_hits, trials=100, other=0.2):
    matches = {"watermark": torch.arange(trials) < wm_hits, "mistakes": torch.rand(50) < other,
               "adversarial": torch.rand(40) < other}
    return detect_study.Answers(name, group, learns, seed, accuracy=0.5, kappa=0.1, matches=matches, fallback=0.5, seconds=1.0)


@pytest.fixture
def run():
    torch.manual_seed(0)
    answers = [_answers(f"label copy {s}", "API copy", "api_label", s, 20 + s) for s in range(5)]
    answers += [_answers(f"probs copy {s}", "API copy", "api_probs", s, 22 + s) for s in range(5)]
    answers += [_answers("white-box copy 0", "white-box copy", "logits", 0, 3)]
    answers += [_answers(f"same images {s}", "independent", "truth", s, 3 + s % 2) for s in range(5)]
    answers += [_answers(f"other images {s}", "independent", "truth", s, 6) for s in (6, 7)]
    answers += [_answers(f"lab reference {r}", "reference", "truth", r, 5 + r % 3) for r in range(10, 14)]
    return detect_study.Interrogation(teacher_accuracy=0.89, teacher_fallback=0.2, answers=answers)


def test_decisions_per_suspect_use_the_references_pooled_rate(run):
    study = detect_study.get_study("quick")
    out = detect_study.decisions(run, study.alpha)
    assert len(out) == len(run.answers) - 4  # the references set the rate; they are not tested
    ref_hits, ref_trials = detect_study.innocent_rate(run)
    assert (ref_hits, ref_trials) == (sum(5 + r % 3 for r in range(10, 14)), 400)
    for d in out:
        assert d.p == fingerprint.match_p(d.hits, 100, ref_hits, ref_trials)
        assert d.flagged == (d.p < study.alpha) and d.is_copy == d.group.endswith("copy")
    flagged = {d.name for d in out if d.flagged}
    assert flagged == {a.name for a in run.answers if a.group == "API copy"}  # not the white-box copy, no innocent
    fewer = detect_study.decisions(run, study.alpha, first=10)  # the first 10 marks only
    assert all(d.trials == 10 for d in fewer)


def test_panel_verdicts_threshold_rules_and_seed_gaps(run):
    verdicts = {v.probe: v for v in detect_study.panel_verdicts(run)}
    wm = verdicts["watermark answers"]
    assert wm.auc == 1.0 and wm.method == "exact"
    assert wm.p_floor == pytest.approx(1 / math.comb(10 + 7, 10)) and wm.p == pytest.approx(wm.p_floor)
    assert wm.auc_step == pytest.approx(1 / 70)
    assert wm.white_box < 0.5  # 3 hits: at or below every independent model
    rules = {r.probe: r for r in detect_study.threshold_rules(run)}
    assert rules["watermark answers"].threshold == pytest.approx(0.07)
    assert rules["watermark answers"].fpr == pytest.approx(1 / 5)
    wm_rule = rules["watermark answers"]
    assert (wm_rule.api_copies, wm_rule.white_box, wm_rule.independent) == ("10 of 10", "0 of 1", "0 of 7")
    gaps = detect_study.seed_gaps(run)
    label = gaps["the API's labels (watermarked)"]
    want = stats.paired([(20 + s) / 100 for s in range(5)], [(3 + s % 2) / 100 for s in range(5)])
    assert label["mean"] == pytest.approx(want["mean"]) and label["lo"] == pytest.approx(want["lo"])
    curves = detect_study.roc_curves(run)
    assert curves["watermark answers"][2] == 1.0


def test_summary_holds_the_issues_fields(run):
    study = detect_study.get_study("quick")
    d = detect_study.summary(run, study)["detection"]
    assert d["p_floor"] == pytest.approx(1 / math.comb(d["n_api_copies"] + d["n_independent"], d["n_api_copies"]))
    assert d["n_references"] >= 4 and 0 <= d["api_copies_auc"] <= 1
    assert {"name", "is_copy", "p"} <= set(d["per_suspect"][0])
    assert d["threshold_fpr"] == pytest.approx(1 / (d["n_references"] + 1))


def test_an_interrogation_survives_the_replay_file(run, tmp_path, monkeypatch):
    monkeypatch.setattr(replay, "REPLAY_DIR", tmp_path)
    replay.record("05_test", run)
    back = replay.load("05_test")
    assert isinstance(back, detect_study.Interrogation) and back.answers[3].name == run.answers[3].name
    assert torch.equal(back.answers[3].matches["watermark"], run.answers[3].matches["watermark"])


def test_the_full_profiles_path_end_to_end_on_a_tiny_data_set():
    """The full study's code (its recipe, its suspects' kinds, the teacher-size independent model), shrunk: 60
    images per suspect, one pass, a few probes. Seconds on a CPU."""
    g = torch.Generator().manual_seed(0)
    cifar = data.CIFAR10(torch.randint(0, 256, (300, 3, 32, 32), dtype=torch.uint8, generator=g), torch.arange(300) % 10,
                         torch.randint(0, 256, (200, 3, 32, 32), dtype=torch.uint8, generator=g), torch.arange(200) % 10,
                         source="synthetic")
    torch.manual_seed(0)
    teacher = models.make_net((8, 16, 16)).eval()
    full = detect_study.get_study("full")
    keep = {"label copy 0", "probs copy 1", "white-box copy 0", "same images 0", "same images 1", "other images 6",
            "teacher-size net 8", "lab reference 10", "lab reference 11"}
    tiny = dataclasses.replace(full, images=60, epochs=1, probes=20, mistake_probes=100, pgd_steps=2,
                               watermark_share=0.3, suspects=tuple(s for s in full.suspects if s.name in keep))
    assert tiny.recipe == "full"
    run = detect_study.interrogate.__wrapped__(teacher, cifar, tiny, torch.device("cpu"))
    assert [a.name for a in run.answers] == [s.name for s in tiny.suspects]
    summary = detect_study.summary(run, tiny)
    assert summary["detection"]["n_references"] == 2 and len(summary["detection"]["per_suspect"]) == 7
    assert all(0 <= r["watermark"] <= 1 for r in summary["scores"])
    with pytest.raises(ValueError, match="no marked images"):
        detect_study.interrogate.__wrapped__(teacher, cifar, dataclasses.replace(tiny, watermark_share=0.0), "cpu")


def test_readings_and_tables_are_generated_from_the_numbers(run):
    text = detect_study.decision_reading(run, 0.01)
    ref_hits, ref_trials = detect_study.innocent_rate(run)
    assert f"repeated {ref_hits} of {ref_trials}" in text and "flags 10 of 10 API copies" in text
    assert "0 of 1 white-box copies" in text and "0 of 7 independent models" in text and "above zero" in text
    assert "ceiling" in detect_study.probe_reading(run)
    for rows, columns in ((detect_study.score_table(run), detect_study.SCORE_COLUMNS),
                          (detect_study.threshold_rules(run), detect_study.RULE_COLUMNS),
                          (detect_study.decisions(run, 0.01), detect_study.DECISION_COLUMNS),
                          (detect_study.panel_verdicts(run), detect_study.PANEL_COLUMNS)):
        assert len(show.format_table(rows, columns).splitlines()) == len(rows) + 2


def test_checkers_of_05(run, capsys):
    def right(a, b, c, d):
        n = a + b + c + d
        p_t, p_s = (a + b) / n, (a + c) / n
        chance = p_t * p_s + (1 - p_t) * (1 - p_s)
        return ((a + d) / n - chance) / (1 - chance)

    assert checks.kappa_from_counts(right)
    assert not checks.kappa_from_counts(lambda a, b, c, d: (a + d) / (a + b + c + d))
    assert "observed agreement" in capsys.readouterr().out
    for bad in (None, 3, lambda a, b, c, d: None, lambda a, b, c, d: float("nan"), lambda a, b, c, d: "x" * 10 ** 6):
        assert not checks.kappa_from_counts(bad)
    assert len(capsys.readouterr().out) < 2_000
    # the checker's tables agree with fingerprint.error_kappa on the predictions they stand for
    labels = torch.zeros(100, dtype=torch.long)
    t = torch.tensor([0] * 70 + [1] * 30)  # right on 70
    s = torch.tensor([0] * 60 + [1] * 10 + [0] * 5 + [1] * 25)  # both right 60, teacher only 10, suspect only 5
    assert fingerprint.error_kappa(t, s, labels) == pytest.approx(right(60, 10, 5, 25))
    assert checks.strongest_evidence("b") and not checks.strongest_evidence("a") and not checks.strongest_evidence(None)
    # predict, then run: the count of flagged API copies with the first n marks, within one
    flagged = sum(d.flagged for d in detect_study.decisions(run, 0.01, first=10) if d.group == "API copy")
    capsys.readouterr()
    assert checks.fewer_marks(flagged, run, 10, 0.01) and checks.fewer_marks(flagged + 1, run, 10, 0.01)
    assert not checks.fewer_marks(flagged + 3, run, 10, 0.01)
    out = capsys.readouterr().out
    assert f"flags {flagged} of 10 API copies" in out
    for bad in (None, float("nan"), "ten", [3]):
        assert not checks.fewer_marks(bad, run, 10, 0.01)
    assert not checks.fewer_marks(3, run, 0, 0.01) and not checks.fewer_marks(3, run, 10.5, 0.01)
    # the quiz: the solution's answers, and one line whatever comes
    capsys.readouterr()
    assert checks.detection_quiz({1: 0.1, 2: 1 / 924, 3: "b", 4: "c"})
    assert not checks.detection_quiz({1: 10, 2: 1 / 924, 3: "b", 4: "a"})
    assert "not a percentage" in capsys.readouterr().out
    for bad in (None, float("nan"), "x" * 10 ** 6, [0.1], {1: float("nan")}, {3: torch.tensor(1)}):
        assert not checks.detection_quiz(bad)
    assert all(line.startswith("Not yet") for line in capsys.readouterr().out.splitlines())


def test_figures_of_05(run):
    rules = detect_study.threshold_rules(run)
    fig = plots.plot_probe_scores(detect_study.score_table(run), rules, detect_study.PROBES)
    assert len(fig.axes) == 3 and all(ax.get_ylabel() for ax in fig.axes)  # a y label on every panel
    assert len(fig.legends) == 1  # one legend for all panels
    decisions = detect_study.decisions(run, 0.01)
    fig = plots.plot_decisions(decisions, 0.01, detect_study.seed_gaps(run))
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == [d.name for d in decisions]
    assert all(ax.get_xlabel() or ax.get_ylabel() for ax in fig.axes)
    fig = plots.plot_roc(detect_study.roc_curves(run))
    assert len(fig.axes) == 3 and all(ax.get_xlabel() and ax.get_ylabel() for ax in fig.axes)  # no curve hidden


def test_the_notebooks_pgd_loop_is_fingerprint_pgd():
    """Notebook 05 shows the attack as a loop (its cell tagged `loop`); fingerprint.pgd must be that loop."""
    import types
    from pathlib import Path

    import nbformat

    nb = nbformat.read(Path(__file__).parent.parent / "notebooks" / "05_detect_distillation.ipynb", as_version=4)
    (cell,) = [c for c in nb.cells if "loop" in c.metadata.get("tags", [])]
    torch.manual_seed(0)
    teacher = models.make_net((8, 16, 16)).eval()
    g = torch.Generator().manual_seed(1)
    cifar = types.SimpleNamespace(test_images=torch.randint(0, 256, (10_000, 3, 32, 32), dtype=torch.uint8, generator=g))
    study = detect_study.get_study("quick")
    scope = {"torch": torch, "data": data, "device": torch.device("cpu"), "teacher": teacher, "cifar": cifar,
             "study": study}
    exec(compile(cell.source, "notebook 05, loop cell", "exec"), scope)
    want = fingerprint.pgd(teacher, cifar.test_images[::1250][:8], eps=study.eps, steps=study.pgd_steps)
    assert torch.equal(scope["adversarial"], want)


def test_get_study_names_the_profiles_it_knows():
    with pytest.raises(ValueError, match="'Full'.*quick"):
        detect_study.get_study("Full")
    assert detect_study.get_study("full").images > detect_study.get_study("quick").images


def test_the_predict_then_run_checker_does_not_give_the_answer_away(run, capsys):
    assert not checks.fewer_marks(None, run, 10, 0.01)
    out = capsys.readouterr().out
    assert "prediction first" in out and "flags" not in out
