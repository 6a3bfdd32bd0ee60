"""A notebook's start: the device, the profile, the threads and numerics said in one line, and a guard for
cells run out of order.

    device, PROFILE = session.start()

Results differ slightly between thread counts and numerics (floating-point sums run in another order), so the
line names both: a number on the page is exact for this machine, this thread count and these numerics.
"""
from __future__ import annotations

import platform
import time
from importlib import metadata

import torch

from . import config, numerics

_started = None  # perf_counter() at start(): the notebook's run time so far is elapsed()

SETUP_HINT = ("This cell uses a name that an earlier cell defines. Run the set-up cells first (Run > Run All Above), "
              "then this cell again.")


def start(measure_numerics: bool = True) -> tuple[torch.device, str]:
    """(device, profile) for this notebook, after printing what a result depends on. `measure_numerics`:
    choose the CPU numerics now (CIFAR-10 notebooks); the language-model notebooks train in float32."""
    global _started
    _started = time.perf_counter()
    device = config.get_device()
    profile = config.get_profile(device)
    if measure_numerics:
        chosen = str(numerics.for_device(device, announce=False))
    else:
        chosen = "fp32"
    print(f"device: {device} ({torch.get_num_threads()} threads), profile: {profile}, numerics: {chosen}")
    install_guard()
    return device, profile


def environment() -> dict:
    """What the course sees on this machine (config.describe()) and the versions of the packages a page uses."""
    info = config.describe() | {"python": platform.python_version()}
    for package in ("numpy", "matplotlib", "ipywidgets"):
        try:
            info[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            info[package] = "not installed (make lab installs it)"
    return info


def elapsed() -> float:
    """Seconds since start(), for a notebook's total run time."""
    if _started is None:
        raise RuntimeError("session.elapsed() counts from session.start(): run the set-up cells first.")
    return time.perf_counter() - _started


def install_guard() -> None:
    """In IPython, a NameError also says to run the set-up cells (a cell run before the cells that define its names).
    start() installs it, and so does importing course_utils.checks: an exercise cell that imports its checker says
    what to run first even after a kernel restart."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return

    def hint(shell, etype, value, tb, tb_offset=None):
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        print(f"\n{SETUP_HINT}")

    shell.set_custom_exc((NameError,), hint)
