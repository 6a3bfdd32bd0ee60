import pytest
import torch

from course_utils import config


def test_profile_follows_device(monkeypatch):
    monkeypatch.delenv("COURSE_PROFILE", raising=False)
    assert config.get_profile(torch.device("cpu")) == "quick"
    assert config.get_profile(torch.device("cuda")) == "full"


@pytest.mark.parametrize("value,expected", [("quick", "quick"), ("FULL", "full"), (" full ", "full"), ("Demo\t", "demo")])
def test_profile_override(monkeypatch, value, expected):
    monkeypatch.setenv("COURSE_PROFILE", value)
    if expected == "full":  # on this CPU: a warning before hours of work
        with pytest.warns(config.SlowProfileWarning):
            assert config.get_profile(torch.device("cpu")) == expected
    else:
        assert config.get_profile(torch.device("cpu")) == expected


def test_unknown_profile_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "fast")
    with pytest.raises(ValueError, match=r"COURSE_PROFILE must be one of \('quick', 'full', 'demo'\), got 'fast'"):
        config.get_profile()


def test_device_order_and_override(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    if expected == "cpu" and torch.backends.mps.is_available():
        expected = "mps"
    assert config.get_device().type == expected
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert config.get_device() == torch.device("cpu")
    assert config.get_device("cpu") == torch.device("cpu")


def test_set_seed_repeats_every_generator():
    import random

    import numpy as np

    config.set_seed(7)
    a = (random.random(), np.random.rand(), torch.rand(3))
    config.set_seed(7)
    b = (random.random(), np.random.rand(), torch.rand(3))
    assert a[0] == b[0] and a[1] == b[1] and torch.equal(a[2], b[2])


def test_describe_names_what_the_welcome_notebook_shows():
    info = config.describe()
    assert {"device", "profile", "torch", "torchvision"} <= set(info)
