"""TeacherAPI's guarantees: what each exposure returns, exact budget accounting, clear errors, eval mode,
determinism."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from course_utils import copier, data, models
from course_utils.server import BudgetExceeded, EXPOSURES, TeacherAPI, TopK, expose, image_hash

C = 10


class CountingNet(nn.Module):
    """A small course net that counts the images it has seen (to prove a refused request computed nothing)."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.net = models.make_net((8, 8, 8))
        models.init_whitening(self.net, _images(64, seed=99))
        self.seen = 0

    def forward(self, x):
        self.seen += len(x)
        return self.net(x) * 9  # livelier logits than a fresh net's, so classes differ between images


def _images(n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g)


@pytest.fixture
def model():
    return CountingNet().eval()


@pytest.fixture
def x():
    return _images(50)


def _reference_logits(model, x):
    with torch.no_grad():
        return model.eval()(data.normalize(x)).float()


# ----------------------------------------------------------------------------- what each exposure returns

def test_logits_exposure_returns_the_models_logits(model, x):
    ans = TeacherAPI(model, "logits").query(x)
    assert isinstance(ans, torch.Tensor) and ans.shape == (50, C) and ans.dtype == torch.float32
    assert torch.allclose(ans, _reference_logits(model, x), atol=1e-5)


def test_probs_exposure_returns_a_distribution(model, x):
    ans = TeacherAPI(model, "probs").query(x)
    assert ans.shape == (50, C) and ans.dtype == torch.float32
    assert torch.allclose(ans.sum(1), torch.ones(50), atol=1e-5)
    assert torch.allclose(ans, torch.softmax(_reference_logits(model, x), 1), atol=1e-6)


@pytest.mark.parametrize("k", [1, 3, 10])
def test_top_k_shows_only_the_k_best(model, x, k):
    ans = TeacherAPI(model, "top_k", k=k).query(x)
    assert isinstance(ans, TopK) and len(ans) == 2  # nothing else in the answer
    assert ans.classes.shape == (50, k) and ans.classes.dtype == torch.int64
    assert ans.probs.shape == (50, k)
    full = torch.softmax(_reference_logits(model, x), 1)
    best_p, best_c = full.topk(k, 1)
    assert torch.equal(ans.classes, best_c)
    assert torch.allclose(ans.probs, best_p, atol=1e-6)
    assert (ans.probs[:, :-1] >= ans.probs[:, 1:]).all()  # best first


def test_label_exposure_returns_only_the_class(model, x):
    ans = TeacherAPI(model, "label").query(x)
    assert ans.shape == (50,) and ans.dtype == torch.int64
    assert torch.equal(ans, _reference_logits(model, x).argmax(1))


def test_text_exposure_returns_sentences_that_parse_to_the_label(model, x):
    text = TeacherAPI(model, "text").query(x)
    labels = TeacherAPI(model, "label").query(x)
    assert isinstance(text, list) and len(text) == 50 and all(isinstance(s, str) for s in text)
    assert torch.equal(copier.parse_text(text), labels)
    assert len({s.split()[0] for s in text}) > 1  # several phrasings, not one template


def test_answers_hold_no_model_and_no_gradient(model, x):
    for exposure in EXPOSURES:
        ans = TeacherAPI(model, exposure).query(x)
        parts = list(ans) if isinstance(ans, (tuple, list)) else [ans]
        for part in parts:
            assert not isinstance(part, nn.Module)
            if isinstance(part, torch.Tensor):
                assert not part.requires_grad and part.grad_fn is None


def test_no_public_attribute_reaches_the_model(model):
    api = TeacherAPI(model, "label")
    for name in dir(api):
        if name.startswith("_"):
            continue
        value = getattr(api, name)
        assert not isinstance(value, (nn.Module, nn.Parameter)), name
        assert not (isinstance(value, torch.Tensor) and value.numel() > 1), name
    assert "CountingNet" not in repr(api)


def test_expose_matches_query(model, x):
    """The lab-side shortcut (one teacher pass, formatted several ways) gives exactly the API's answers."""
    logits = _reference_logits(model, x)
    for exposure in EXPOSURES:
        for defence in ({}, {"decimals": 2, "perturb": 0.3}):
            api = TeacherAPI(model, exposure, secret=7, **defence)
            got = api.query(x)
            want = expose(logits, image_hash(x, secret=7), exposure, **defence)
            if isinstance(got, list):
                assert got == want
            elif isinstance(got, TopK):
                assert torch.equal(got.classes, want.classes) and torch.allclose(got.probs, want.probs)
            else:
                assert torch.allclose(got.float(), want.float(), atol=1e-6)


def test_budget_accounting_is_exact(model):
    api = TeacherAPI(model, "label", budget=10, price_per_1k=2.5)
    assert (api.queries_used, api.remaining, api.cost) == (0, 10, 0.0)
    api.query(_images(4))
    assert (api.queries_used, api.remaining) == (4, 6)
    assert math.isclose(api.cost, 4 * 2.5 / 1000)
    seen = model.seen
    with pytest.raises(BudgetExceeded, match="refused whole"):
        api.query(_images(7))
    assert model.seen == seen, "a refused request must compute nothing"
    assert (api.queries_used, api.remaining) == (4, 6), "a refused request must count nothing"
    api.query(_images(6))  # exactly the rest is fine
    assert (api.queries_used, api.remaining) == (10, 0)
    with pytest.raises(BudgetExceeded):
        api.query(_images(1))
    assert api.spend() == {"queries": 10, "remaining": 0, "budget": 10, "cost": 10 * 2.5 / 1000,
                           "price_per_1k": 2.5}


def test_zero_budget_refuses_everything(model):
    api = TeacherAPI(model, "probs", budget=0)
    with pytest.raises(BudgetExceeded, match="0 of the budget"):
        api.query(_images(1))
    assert api.queries_used == 0


def test_settings_are_read_only(model):
    api = TeacherAPI(model, "label", budget=5)
    for name in ("budget", "exposure", "queries_used", "remaining", "cost"):
        with pytest.raises(AttributeError):
            setattr(api, name, 10 ** 9)


def test_answers_do_not_depend_on_the_model_layout(model):
    """train.fit leaves its models in channels_last, whose CPU kernels let logits move by ~1e-8 with the
    batch: the API serves in the default layout, so chunks still join to the very same answers."""
    x = _images(300)
    want = TeacherAPI(model, "logits").query(x)
    model.to(memory_format=torch.channels_last)
    api = TeacherAPI(model, "logits")
    assert torch.equal(copier.collect(api, x, chunk=7), want)
    assert torch.equal(api.query(x), want)


def test_answers_in_eval_mode_whatever_the_model_mode(model, x):
    api = TeacherAPI(model, "logits")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    first = api.query(x)
    model.train()  # someone flips the wrapped model to training mode
    second = api.query(x)
    assert torch.equal(first, second)
    for k, v in model.state_dict().items():  # BatchNorm running statistics untouched
        assert torch.equal(v, before[k]), k


def test_answers_are_deterministic_per_image(model, x):
    for exposure, kw in (("probs", {}), ("text", {}), ("label", {"perturb": 0.4})):
        api = TeacherAPI(model, exposure, **kw)
        whole = api.query(x)
        perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(1))
        shuffled = api.query(x[perm])  # other batch, other order: the same answer per image
        if isinstance(whole, list):
            assert shuffled == [whole[int(i)] for i in perm]
        else:
            assert torch.allclose(shuffled, whole[perm], atol=1e-6)


def test_query_does_not_build_a_graph(model, x):
    with torch.enable_grad():
        ans = TeacherAPI(model, "logits").query(x)
    assert not ans.requires_grad


def test_rounding_defence(model, x):
    probs = TeacherAPI(model, "probs", decimals=2).query(x)
    assert torch.allclose(probs * 100, (probs * 100).round(), atol=1e-4)
    top = TeacherAPI(model, "top_k", k=3, decimals=1).query(x)
    assert torch.allclose(top.probs * 10, (top.probs * 10).round(), atol=1e-4)


def test_perturbation_defence_falsifies_the_stated_share(model):
    x = _images(2000, seed=3)
    clean = TeacherAPI(model, "label").query(x)
    noisy = TeacherAPI(model, "label", perturb=0.2).query(x)
    share = (clean != noisy).float().mean().item()
    assert 0.17 < share < 0.23, share
    probs = TeacherAPI(model, "probs", perturb=0.2).query(x)
    assert torch.equal(probs.argmax(1), noisy)  # every exposure tells the same (false) story
    assert torch.equal(TeacherAPI(model, "label", perturb=1.0).query(x) != clean, torch.ones(2000, dtype=torch.bool))


@pytest.mark.parametrize("bad, match", [
    (torch.rand(4, 3, 32, 32), "uint8"),
    (torch.zeros(4, 32, 32, 3, dtype=torch.uint8), r"\(N, 3, 32, 32\)"),
    (torch.zeros(3, 32, 32, dtype=torch.uint8), r"x\[None\]"),
    (torch.zeros(0, 3, 32, 32, dtype=torch.uint8), "empty batch"),
])
def test_bad_images(model, bad, match):
    api = TeacherAPI(model, "label", budget=100)
    with pytest.raises(ValueError, match=match):
        api.query(bad)
    assert api.queries_used == 0


def test_not_a_tensor(model):
    with pytest.raises(TypeError, match="uint8 tensor"):
        TeacherAPI(model).query([[0]])


@pytest.mark.parametrize("kw, match", [
    ({"exposure": "weights"}, "unknown exposure 'weights'"),
    ({"exposure": "top_k", "k": 0}, "between 1 and 10"),
    ({"exposure": "top_k", "k": 11}, "between 1 and 10"),
    ({"budget": -1}, "budget must be a whole number"),
    ({"budget": 2.5}, "budget must be a whole number"),
    ({"price_per_1k": -1}, "price_per_1k"),
    ({"decimals": -2}, "decimals"),
    ({"perturb": 1.5}, "perturb"),
])
def test_bad_settings(model, kw, match):
    with pytest.raises(ValueError, match=match):
        TeacherAPI(model, **kw)
