"""Notebook 07's study: the on-policy losses against float64 by hand, cached sampling, the judge of a model's text,
the loop on the page against the library's, and a shrunk run of the full profile's code path."""
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest
import torch

from course_utils import checkpoints, corpus, lm, lm_study, onpolicy_study, show

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "07_on_policy_distillation.ipynb"
TINY = lm.GPTConfig(d=16, layers=1, heads=2)


def tiny(seed=0, cfg=TINY):
    torch.manual_seed(seed)
    return lm.TinyGPT(cfg).eval()


def logits_and_targets(seed=3):
    g = torch.Generator().manual_seed(seed)
    z_s, z_t = torch.randn(3, 6, 9, generator=g), 2 * torch.randn(3, 6, 9, generator=g)
    y = torch.randint(0, 9, (3, 6), generator=g)
    y[0, 4:] = y[2, 1:] = lm.IGNORE  # padded rows
    return z_s, z_t, y


def test_forward_and_reverse_kl_match_float64_by_hand():
    z_s, z_t, y = logits_and_targets()
    keep = (y != lm.IGNORE).numpy()
    p_s, p_t = z_s.double().softmax(-1).numpy(), z_t.double().softmax(-1).numpy()
    forward = [sum(p_t[b, i, v] * (torch.log(torch.tensor(p_t[b, i, v])) - torch.log(torch.tensor(p_s[b, i, v])))
                   for v in range(9)) for b in range(3) for i in range(6) if keep[b, i]]
    reverse = [sum(p_s[b, i, v] * (torch.log(torch.tensor(p_s[b, i, v])) - torch.log(torch.tensor(p_t[b, i, v])))
                   for v in range(9)) for b in range(3) for i in range(6) if keep[b, i]]
    want_f, want_r = sum(forward) / len(forward), sum(reverse) / len(reverse)
    assert lm.token_distillation_loss(z_s, z_t, y).item() == pytest.approx(float(want_f), abs=1e-6)
    assert lm.token_reverse_kl(z_s, z_t, y).item() == pytest.approx(float(want_r), abs=1e-6)
    assert abs(float(want_f) - float(want_r)) > 0.05  # the two directions differ
    assert lm.token_reverse_kl(z_s, z_s, y).item() == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="same shape"):
        lm.token_reverse_kl(z_s, z_t[:, :5], y)


def test_the_reverse_kl_prefers_one_peak_and_the_forward_kl_the_spread():
    """A teacher with two peaks: between a student on one of them and a student spread over every word, the forward
    KL prefers the spread one (it covers both peaks), the reverse KL the peaked one (it puts nothing where the
    teacher has little)."""
    y = torch.zeros(1, 1, dtype=torch.long)
    teacher = torch.tensor([[[0.49, 0.49, 0.02]]]).log()
    peaked, spread = torch.tensor([[[0.96, 0.02, 0.02]]]).log(), torch.tensor([[[0.34, 0.33, 0.33]]]).log()
    assert lm.token_distillation_loss(spread, teacher, y) < lm.token_distillation_loss(peaked, teacher, y)
    assert lm.token_reverse_kl(peaked, teacher, y) < lm.token_reverse_kl(spread, teacher, y)


def test_cached_sampling_gives_what_plain_sampling_gives():
    for cfg in (TINY, lm.GPTConfig(d=24, layers=2, heads=3)):
        m = tiny(1, cfg)
        prompt = torch.tensor([corpus.encode(corpus.question("story"))] * 6)
        ids = lm.generate(m, prompt, 30, generator=torch.Generator().manual_seed(4))
        cached = lm.generate_cached(m, prompt, 30, generator=torch.Generator().manual_seed(4))
        assert torch.equal(ids, cached)
        cache = [None] * len(m.blocks)
        step = [lm._forward_cached(m, ids[:, :5], cache, 0)]  # the prompt's start, then one word at a time
        step += [lm._forward_cached(m, ids[:, t:t + 1], cache, t) for t in range(5, 12)]
        with torch.no_grad():
            assert torch.allclose(torch.cat(step, 1), m(ids[:, :12]), atol=1e-5)


def test_judge_lays_out_the_truth_up_to_the_derailment():
    texts = ["<bos> Q : what is 3 plus 4 ? A : 8 . <eos>".split(), corpus.sample(1, seed=5)[0].words,
             "<bos> Q : tell me a story".split()]
    j = onpolicy_study.judge(texts)
    assert j.derailed_at.tolist() == [11, -1, -1]
    assert j.judged[0].sum() == 11 and j.truth[0, 10, corpus.INDEX["7"]] == 1.0  # the wrong answer is judged
    assert j.judged[1].sum() == len(texts[1]) - 1 and j.judged[2].sum() == len(texts[2]) - 1
    assert torch.allclose(j.truth[j.judged].sum(-1), torch.ones(int(j.judged.sum())))
    w = onpolicy_study.world(20, seed=6)
    ref = corpus.to_batch(corpus.sample(20, seed=6))
    assert torch.equal(w.truth, ref.truth) and (w.derailed_at == -1).all()
    m = tiny()
    kl = onpolicy_study.kl_by_word(m, j)
    assert (kl[j.judged] > 0).all() and (kl[~j.judged] == 0).all()
    assert onpolicy_study.kl_by_word(m, w)[w.judged].mean().item() == pytest.approx(
        lm_study.kl_to_truth(m, corpus.to_batch(corpus.sample(20, seed=6))), rel=0.05)  # shared positions differ a bit


def _loop_cell():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cells = [c for c in nb.cells if "loop" in c.metadata.get("tags", [])]
    assert len(cells) == 1, "notebook 07 shows one loop, in a cell tagged `loop`"
    return cells[0].source


def test_the_notebooks_loop_is_the_librarys():
    namespace = {"torch": torch, "lm": lm, "corpus": corpus}
    exec(compile(_loop_cell(), "notebook 07, the loop cell", "exec"), namespace)
    study = replace(onpolicy_study.get_study("quick"), student=TINY, steps=6, batch_size=4)
    teacher = tiny(9, lm.GPTConfig(d=24, layers=1, heads=2))
    text = onpolicy_study.write(teacher, study.steps * study.batch_size, seed=1)
    for name in onpolicy_study.STUDENTS:
        args = (teacher, text, onpolicy_study.share_of(name, study), onpolicy_study.divergence_of(name),
                study.steps, study.batch_size, study.lr, 0)
        mine = namespace["distil"](lm_study.new_model(TINY, 1_000, "cpu"), *args)
        library = lm_study.new_model(TINY, 1_000, "cpu")
        onpolicy_study.distil(library, *args)
        assert all(torch.equal(a, b) for a, b in zip(mine.state_dict().values(), library.state_dict().values())), name


def test_a_shrunk_full_profile_runs_every_student_and_pairs_them(monkeypatch):
    study = replace(onpolicy_study.get_study("full"), student=TINY, steps=4, batch_size=4, seeds=2,
                    eval_dialogues=20)
    teacher = tiny(9, lm.GPTConfig(d=24, layers=1, heads=2))
    results = onpolicy_study.run(study, teacher, progress=False)
    assert [(r.student, r.seed) for r in results] == [(n, s) for s in range(2) for n in onpolicy_study.STUDENTS]
    for r in results:
        assert r.kl_own > 0 and r.kl_world > 0 and 0 <= r.derail_rate <= 1 and r.words_scored > 0
    by = {(r.student, r.seed): r for r in results}
    assert by[("off_policy", 0)].on_policy_batches == 0 and by[("on_policy", 0)].on_policy_batches == 4
    s = onpolicy_study.paired(results, "kl_own", "on_policy")
    assert s["n"] == 2 and s["diffs"][0] == pytest.approx(by[("on_policy", 0)].kl_own - by[("off_policy", 0)].kl_own)
    with pytest.raises(ValueError, match="unknown student"):
        onpolicy_study.share_of("oracle", study)
    with pytest.raises(ValueError, match="no on-policy study"):
        onpolicy_study.get_study("huge")


def test_the_shipped_teacher_loads_weights_only_with_its_provenance():
    teacher, meta = onpolicy_study.load_teacher("cpu")
    assert teacher.cfg == onpolicy_study.TEACHER and checkpoints.PRETRAINED_LM_TEACHER.stat().st_size < 2e6
    assert meta["command"] == "python bench/onpolicy.py teacher" and meta["kl_to_truth_fp16"] < 0.01
    assert lm_study.kl_to_truth(teacher, corpus.to_batch(corpus.sample(200, seed=2))) < 0.01


def test_rows_readings_and_the_saved_record():
    results = [onpolicy_study.StudentResult(n, s, 0.05 + 0.01 * (n == "on_policy") + 0.001 * s, 0.05, 0.3, 0.4, 0.6,
                                            1000 + s, 0, 1.0) for s in range(3) for n in ("off_policy", "on_policy")]
    rows = onpolicy_study.student_rows(results)
    assert [r["student"] for r in rows] == ["off-policy", "on-policy"] and rows[1]["kl_own"] == pytest.approx(0.061)
    text = show.format_table(rows, {"student": "student", "kl_own": ("kl_own", ".4f")})
    assert text.splitlines()[3].split() == ["on-policy", "0.0610"]
    saved = onpolicy_study.record(results, "kl_own")
    assert saved["primary"]["name"] == "on_policy - off_policy, kl_own" and saved["primary"]["n_seeds"] == 3
    assert saved["primary"]["mean"] == pytest.approx(0.01) and saved["students"]["on_policy"]["derail_rate"] == 0.3
    assert {"kl_own", "kl_world", "derail_rate"} <= set(saved["students"]["off_policy"])
    with pytest.raises(ValueError, match="no seed has both"):
        onpolicy_study.paired(results, "kl_own", "mixed")
