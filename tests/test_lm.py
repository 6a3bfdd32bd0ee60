"""The tiny GPT of notebook 06: shapes, causality, repeatable sampling, the per-word loss, and the training loop
(the one on notebook 06's page, read from its cell, gives lm.fit's weights)."""
from pathlib import Path

import nbformat
import pytest
import torch

from course_utils import corpus, lm, losses

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "06_language_model.ipynb"

CFG = lm.GPTConfig(d=16, layers=2, heads=2)


def model(seed=0):
    torch.manual_seed(seed)
    return lm.TinyGPT(CFG).eval()


def test_shapes():
    ids = torch.randint(0, CFG.vocab, (3, 7))
    assert model()(ids).shape == (3, 7, CFG.vocab)
    with pytest.raises(ValueError, match="more than the model's context"):
        model()(torch.zeros(1, CFG.context + 1, dtype=torch.long))
    with pytest.raises(ValueError, match="multiple of heads"):
        lm.TinyGPT(lm.GPTConfig(d=10, heads=3))


def test_a_word_never_sees_the_future():
    m = model()
    ids = torch.randint(0, CFG.vocab, (2, 12), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        base = m(ids)
        for t in range(12):
            changed = ids.clone()
            changed[:, t] = (changed[:, t] + 1) % CFG.vocab
            out = m(changed)
            assert torch.equal(out[:, :t], base[:, :t])  # positions before t do not move
            assert not torch.allclose(out[:, t], base[:, t])  # position t does


def test_sampling_with_a_seed_is_repeatable():
    m = model()
    prompt = torch.tensor([corpus.encode(corpus.question("identity"))] * 4)
    a = lm.generate(m, prompt, 10, T=1.0, generator=torch.Generator().manual_seed(5))
    b = lm.generate(m, prompt, 10, T=1.0, generator=torch.Generator().manual_seed(5))
    c = lm.generate(m, prompt, 10, T=1.0, generator=torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(a[:, :prompt.shape[1]], prompt)
    cold = [lm.generate(m, prompt, 5, T=1e-4, generator=torch.Generator().manual_seed(s)) for s in (1, 2)]
    assert torch.equal(cold[0], cold[1]) and torch.equal(cold[0], lm.greedy(m, prompt, 5))  # T -> 0 is greedy
    with pytest.raises(ValueError, match="temperature"):
        lm.generate(m, prompt, 3, T=0.0)


def test_generation_stops_at_eos_and_pads_after_it():
    m = model()
    with torch.no_grad():
        m.head.bias.fill_(-1e4)
        m.head.bias[corpus.INDEX[corpus.EOS]] = 1e4  # this model always says <eos>
    out = lm.generate(m, torch.tensor([[corpus.INDEX[corpus.BOS]]] * 2), 10)
    assert corpus.decode(out[0]) == [corpus.BOS, corpus.EOS]
    assert lm.texts(torch.tensor([corpus.encode([corpus.BOS, "the", corpus.EOS, corpus.PAD])])) == [[corpus.BOS, "the", corpus.EOS]]


def test_the_per_word_loss_is_the_classifier_loss_on_flattened_logits():
    g = torch.Generator().manual_seed(2)
    z_s, z_t = torch.randn(3, 5, 11, generator=g), torch.randn(3, 5, 11, generator=g)
    y = torch.randint(0, 11, (3, 5), generator=g)
    y[1, 2:] = lm.IGNORE
    keep = y != lm.IGNORE
    for T, alpha in ((1.0, 0.0), (2.0, 0.5)):
        want = losses.distillation_loss(z_s[keep], z_t[keep], y[keep], T=T, alpha=alpha)
        assert torch.allclose(lm.token_distillation_loss(z_s, z_t, y, T=T, alpha=alpha), want)
    assert torch.allclose(lm.token_cross_entropy(z_s, y), losses.hard_loss(z_s[keep], y[keep]))
    p = torch.softmax(z_t, -1)
    assert torch.allclose(lm.soft_token_loss(z_s, p, y), losses.soft_target_loss(z_s[keep], p[keep]))
    with pytest.raises(ValueError, match=r"\(B, L, V\)"):
        lm.token_cross_entropy(z_s[0], y[0])
    with pytest.raises(ValueError, match="same shape"):
        lm.token_distillation_loss(z_s, z_t[:, :4], y)


def test_fit_learns_and_is_repeatable():
    data = corpus.to_batch(corpus.sample(200, seed=0), with_truth=False)

    def run():
        m = model(3)
        record = lm.fit(m, data.inputs, lambda z, rows: lm.token_cross_entropy(z, data.targets[rows]),
                        steps=60, batch_size=16, lr=3e-3, seed=0, progress=False)
        return m, record

    (m1, r1), (m2, _) = run(), run()
    assert r1.losses[-1] < 0.6 * r1.losses[0]
    assert all(torch.equal(a, b) for a, b in zip(m1.state_dict().values(), m2.state_dict().values()))
    assert r1.tokens_seen > 60 * 16 * 5
    with pytest.raises(FloatingPointError, match="lower the learning rate"):
        lm.fit(model(), data.inputs, lambda z, rows: z.sum() * float("nan"), 2, 4, 1e-3, 0, progress=False)


def notebook_loop():
    """The `train` function of notebook 06's cell tagged `loop`, run as the learner reads it."""
    cells = [c for c in nbformat.read(NOTEBOOK, as_version=4).cells if "loop" in c.metadata.get("tags", [])]
    assert len(cells) == 1, f"notebook 06 should have one cell tagged 'loop', found {len(cells)}"
    namespace = {"torch": torch}
    exec(compile(cells[0].source, f"{NOTEBOOK.name}:loop", "exec"), namespace)
    return namespace["train"]


@pytest.mark.parametrize("loss", ["text", "soft"])
def test_the_notebooks_loop_cell_gives_fits_weights_bit_for_bit(loss):
    data = corpus.to_batch(corpus.sample(60, seed=1), with_truth=False)
    soft = torch.softmax(torch.randn(*data.targets.shape, CFG.vocab, generator=torch.Generator().manual_seed(3)), -1)
    loss_fn = {"text": lambda z, rows: lm.token_cross_entropy(z, data.targets[rows]),
               "soft": lambda z, rows: lm.soft_token_loss(z, soft[rows], data.targets[rows])}[loss]
    page, library = model(4), model(4)
    notebook_loop()(page, data.inputs, loss_fn, 12, 8, 3e-3, 5)
    lm.fit(library, data.inputs, loss_fn, 12, 8, 3e-3, 5, progress=False)
    assert all(torch.equal(a, b) for a, b in zip(page.state_dict().values(), library.state_dict().values()))
    assert not torch.equal(page.head.weight, model(4).head.weight)  # it trained


@pytest.mark.parametrize("arguments, name", [({"steps": 0}, "steps"), ({"steps": -3}, "steps"), ({"steps": 2.5}, "steps"),
                                             ({"batch_size": 0}, "batch_size"), ({"lr": float("nan")}, "lr"),
                                             ({"lr": 0.0}, "lr"), ({"inputs": torch.zeros(0, 5, dtype=torch.long)}, "inputs")])
def test_fit_refuses_arguments_that_would_train_nothing_or_something_else(arguments, name):
    data = corpus.to_batch(corpus.sample(10, seed=0), with_truth=False)
    kwargs = {"inputs": data.inputs, "steps": 3, "batch_size": 4, "lr": 1e-3} | arguments
    with pytest.raises(ValueError, match=name):
        lm.fit(model(), kwargs.pop("inputs"), lambda z, rows: lm.token_cross_entropy(z, data.targets[rows]),
               seed=0, progress=False, **kwargs)


@pytest.mark.parametrize("ids, says", [
    (torch.tensor([[1, len(corpus.VOCAB)]]), "outside the model's vocabulary"),
    (torch.tensor([[1, -1]]), "outside the model's vocabulary"),
    (torch.tensor([[1.0, 2.0]]), "integer word ids"),
    (torch.tensor([1, 2]), r"a tensor \(B, L\)"),
    (torch.zeros(1, CFG.context + 1, dtype=torch.long), "more than the model's context"),
])
def test_a_model_refuses_ids_it_cannot_read(ids, says):
    with pytest.raises(ValueError, match=says):
        model()(ids)


def test_generation_needs_a_prompt():
    for generate in (lm.generate, lm.generate_cached):
        with pytest.raises(ValueError, match="the prompt is empty"):
            generate(model(), torch.zeros(2, 0, dtype=torch.long), 3)
