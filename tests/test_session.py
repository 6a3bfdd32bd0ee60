"""A notebook's start: one line with what a result depends on, and a guard for cells run out of order."""
import pytest

from course_utils import session


def test_start_says_device_threads_profile_and_numerics(capsys):
    device, profile = session.start()
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"device: {device} (") and "threads), profile: quick, numerics: fp32 + channels_last" in line
    assert profile == "quick" and session.elapsed() >= 0


def test_the_language_model_notebooks_say_float32(capsys):
    session.start(measure_numerics=False)
    assert capsys.readouterr().out.strip().endswith("numerics: fp32")


class FakeShell:
    def __init__(self):
        self.handlers = {}

    def set_custom_exc(self, types, handler):
        self.handlers[types] = handler

    def showtraceback(self, exc_tuple, tb_offset=None):
        print(f"Traceback: {exc_tuple[0].__name__}: {exc_tuple[1]}")


def test_a_name_error_tells_to_run_the_setup_cells(monkeypatch, capsys):
    import IPython

    shell = FakeShell()
    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)
    session.start()
    handler = shell.handlers[(NameError,)]
    handler(shell, NameError, NameError("name 'teacher' is not defined"), None)
    out = capsys.readouterr().out
    assert "name 'teacher' is not defined" in out and "Run > Run All Above" in out


def test_elapsed_before_start_says_what_to_run(monkeypatch):
    monkeypatch.setattr(session, "_started", None)
    with pytest.raises(RuntimeError, match="run the set-up cells first"):
        session.elapsed()


def test_environment_adds_python_and_package_versions_to_describe():
    import platform

    import numpy

    from course_utils import config
    info = session.environment()
    assert info.items() >= config.describe().items()
    assert info["python"] == platform.python_version() and info["numpy"] == numpy.__version__
    assert set(info) >= {"matplotlib", "ipywidgets"}
