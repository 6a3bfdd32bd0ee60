"""Exercise checkers: each says what is right, or exactly what is wrong and how to look again.

A checker prints its verdict (so a learner sees it under the cell) and returns True or False
(so a notebook test can assert the reference solution passes).
"""
from __future__ import annotations

import torch


def _report(ok: bool, message: str) -> bool:
    print(("Correct! " if ok else "Not yet: ") + message)
    return ok


def _close(a, b, tol: float = 1e-5) -> bool:
    return torch.allclose(torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64),
                          rtol=tol, atol=tol)


# ----------------------------------------------------------------------------- notebook 01: temperature
# (checkers for notebook 01 go in this section)


# ----------------------------------------------------------------------------- notebook 03: distillation
# (checkers for notebook 03 go in this section)


# ----------------------------------------------------------------------------- notebook 04: black-box
# (checkers for notebook 04 go in this section)
