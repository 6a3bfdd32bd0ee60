"""What every checker shares: print the verdict and return it, and a few careful comparisons."""
from __future__ import annotations

import torch


def report(ok: bool, message: str) -> bool:
    print(("Correct! " if ok else "Not yet: ") + message)
    return ok


def multiple_choice(choice, right: str, praise: str, why: dict) -> bool:
    """A one-letter answer: `praise` for the `right` letter, why[letter] for each wrong one."""
    options = sorted([right, *why])
    if choice is None:
        return report(False, f"replace None with one of {options}.")
    if choice not in options:
        return report(False, f"choose one of {options}, as a string; got {choice!r}.")
    return report(True, praise) if choice == right else report(False, why[choice])


def percentage(value, what: str) -> bool:
    """True (after telling the learner) when `value` looks like a percentage where a share in [0, 1] was asked."""
    if not 1 < float(value) <= 100:
        return False
    report(False, f"give {what} as a number between 0 and 1, not a percentage "
                   f"({float(value):g}% is {float(value) / 100:g}).")
    return True


def close(a, b, tol: float = 1e-5) -> bool:
    return torch.allclose(torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64),
                          rtol=tol, atol=tol)


def call(fn, *args):
    """fn(*args) as a float64 tensor, or the error message a learner should see."""
    try:
        out = fn(*args)
    except Exception as err:  # the learner's code failed: show the error, not a traceback
        return None, f"calling your function raised {type(err).__name__}: {err}"
    if out is None:
        return None, "your function returned None: write its body and return the result (a torch.Tensor)."
    if not isinstance(out, torch.Tensor):
        return None, f"your function should return a torch.Tensor, it returned {type(out).__name__}."
    return out.detach().double(), None
