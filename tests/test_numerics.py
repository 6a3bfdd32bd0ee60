"""CPU numerics chosen by measurement: the rule, the override, the cache, and fit and predict following the choice."""
import json

import pytest
import torch

from course_utils import config, data, models, numerics, train

FP32, CL = ("float32", "contiguous"), ("float32", "channels_last")
BF16, BF16_CL = ("bfloat16", "contiguous"), ("bfloat16", "channels_last")


def speeds(student, teacher):
    """{variant: {"student": img/s, "teacher": img/s}} from two lists in VARIANTS order."""
    return {v: {"student": s, "teacher": t} for v, s, t in zip(numerics.VARIANTS, student, teacher)}


@pytest.fixture
def fresh(monkeypatch, tmp_path):
    """No choice made yet in this process, and an empty work folder to cache it in."""
    monkeypatch.setattr(numerics, "_chosen", {})
    monkeypatch.setattr(config, "WORK_DIR", tmp_path)
    monkeypatch.delenv("COURSE_CPU_NUMERICS", raising=False)
    return tmp_path


def test_the_fastest_variant_wins():
    # the ratios measured on a Zen 4 CPU with AVX512-BF16: both levers together about 2x
    choice = numerics.choose(speeds([900, 1120, 1180, 1790], [190, 240, 300, 470]))
    assert (choice.dtype, choice.layout) == BF16_CL and choice.speedup == pytest.approx(1.99, abs=0.01)
    assert choice.autocast_dtype == torch.bfloat16 and choice.memory_format == torch.channels_last


def test_without_bf16_units_the_course_falls_back_to_fp32_and_says_so():
    # an emulated bf16 is slower than fp32: the choice is fp32, and the reason is printed with it
    choice = numerics.choose(speeds([900, 1120, 400, 500], [190, 240, 80, 100]))
    assert choice.dtype == "float32" and choice.layout == "channels_last"
    assert "not faster here" in str(choice) and choice.autocast_dtype is None
    no_units = numerics.choose({v: s for v, s in speeds([900, 1120, 0, 0], [190, 240, 0, 0]).items() if v[0] == "float32"},
                               has_bf16=False)
    assert no_units.dtype == "float32" and "no bf16 units" in str(no_units)


def test_a_tie_keeps_full_precision():
    choice = numerics.choose(speeds([900, 1120, 1000, 1150], [190, 240, 200, 245]))
    assert choice.dtype == "float32"


@pytest.mark.parametrize("asked, dtype", [("fp32", "float32"), ("bf16", "bfloat16"), (" BF16 ", "bfloat16")])
def test_the_environment_overrides_the_measurement(fresh, monkeypatch, capsys, asked, dtype):
    monkeypatch.setenv("COURSE_CPU_NUMERICS", asked)
    monkeypatch.setattr(numerics, "measure", lambda **kw: pytest.fail("an override must not measure"))
    assert numerics.for_device("cpu").dtype == dtype
    assert "set by COURSE_CPU_NUMERICS" in capsys.readouterr().out


def test_a_typo_in_the_override_is_refused(fresh, monkeypatch):
    monkeypatch.setenv("COURSE_CPU_NUMERICS", "bfloat")
    with pytest.raises(ValueError, match="fp32, bf16 or auto, got 'bfloat'"):
        numerics.for_device("cpu")


def test_the_choice_is_measured_once_cached_and_announced(fresh, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(numerics, "bf16_supported", lambda: True)
    monkeypatch.setattr(numerics, "measure", lambda **kw: calls.append(1) or speeds([900, 1120, 1180, 1790], [190, 240, 300, 470]))
    first = numerics.for_device("cpu")
    assert first.dtype == "bfloat16" and calls == [1]
    assert "CPU numerics: bf16 + channels_last, 1.99x fp32 here" in capsys.readouterr().out
    assert numerics.for_device(torch.device("cpu")) is first and calls == [1]  # once per process
    cache = json.loads((fresh / "numerics.json").read_text())
    assert list(cache.values())[0]["dtype"] == "bfloat16"
    monkeypatch.setattr(numerics, "_chosen", {})  # a new kernel on the same machine reads the cache
    again = numerics.for_device("cpu")
    assert calls == [1] and again.dtype == "bfloat16" and "measured here before" in again.why


def test_choosing_inside_no_grad_keeps_the_random_state(fresh, monkeypatch):
    # the first predict of a run may trigger the measurement: it must train under no_grad and draw no numbers
    monkeypatch.setattr(numerics, "measure", lambda **kw: (torch.randn(3), torch.ones(1, requires_grad=True).sum().backward(),
                                                          speeds([900, 1120, 1180, 1790], [190, 240, 300, 470]))[-1])
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    with torch.no_grad():
        numerics.for_device("cpu")
    assert torch.equal(torch.rand(3), expected)


def test_a_real_measurement_runs_in_seconds_and_names_every_variant():
    tiny = (("student", (8, 8, 8)), ("teacher", (8, 16, 16)))
    measured = numerics.measure(batch=8, steps=1, rounds=1, nets=tiny)
    assert set(measured) == set(numerics.VARIANTS)
    assert all(s["student"] > 0 and s["teacher"] > 0 for s in measured.values())


def test_fit_and_predict_follow_the_chosen_numerics(monkeypatch):
    x = torch.randint(0, 256, (64, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    y = torch.arange(64) % 10
    seen = []

    def loss(out, target):
        seen.append(torch.get_autocast_dtype("cpu") if torch.is_autocast_enabled("cpu") else torch.float32)
        return torch.nn.functional.cross_entropy(out.float(), target)

    for dtype, expected in (("float32", torch.float32), ("bfloat16", torch.bfloat16)):
        monkeypatch.setattr(numerics, "_chosen", {"cpu": numerics.Numerics(dtype, "channels_last")})
        config.set_seed(0)
        net = models.make_net((8, 8, 8), whiten_with=x)
        train.fit(net, data.Loader(x, y, batch_size=32, seed=0), loss, epochs=1, verbose=False,
                  whiten_bias_epochs=None)
        assert seen[-1] == expected
        assert train.predict(net, x).dtype == torch.float32  # logits leave predict in float32 either way
    monkeypatch.setattr(numerics, "_chosen", {"cpu": numerics.Numerics("bfloat16", "channels_last")})
    net = models.make_net((8, 8, 8), whiten_with=x)
    train.fit(net, data.Loader(x, y, batch_size=32, seed=0), loss, epochs=1, verbose=False, amp=False)
    assert seen[-1] == torch.float32  # amp=False: float32 whatever the machine chose


def test_bf16_training_repeats_itself_bit_for_bit(monkeypatch):
    monkeypatch.setattr(numerics, "_chosen", {"cpu": numerics.Numerics("bfloat16", "channels_last")})
    x = torch.randint(0, 256, (64, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    y = torch.arange(64) % 10
    runs = []
    for _ in range(2):
        config.set_seed(0)
        net = models.make_student(whiten_with=x)
        train.fit(net, data.Loader(x, y, batch_size=32, seed=0), epochs=2, verbose=False)
        runs.append(train.predict(net, x))
    assert torch.equal(*runs)


def test_a_near_tie_in_layout_keeps_channels_last():
    # a busy machine can make the default layout look a little faster: it must win clearly to be chosen
    near = numerics.choose(speeds([900, 1120, 1850, 1790], [190, 240, 480, 470]))
    assert (near.dtype, near.layout) == BF16_CL
    clear = numerics.choose(speeds([900, 1120, 2400, 1790], [190, 240, 620, 470]))
    assert (clear.dtype, clear.layout) == BF16
