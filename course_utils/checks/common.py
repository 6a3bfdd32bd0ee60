"""What every checker shares: print the verdict and return it, read a learner's answer carefully, compare numbers.

A checker's first argument is the learner's answer. Whatever it is (NaN, inf, None, a string, a list, a megabyte
of text, a tensor), the learner gets one "Not yet: ..." line that says what was expected, never a traceback:
`number` reads a numeric answer (non-finite numbers refused), `close` accepts only finite values within a
tolerance ("accept if close", so a NaN is never right), and `guarded` (applied to every checker in
`course_utils.checks`) turns an error inside a checker into such a line.
"""
from __future__ import annotations

import functools
import inspect
import math
import numbers

import numpy as np
import torch

MAX_SHOWN = 60  # characters of a learner's answer quoted back
MAX_MESSAGE = 1000  # a verdict is a few lines; anything longer is cut
MAX_ANSWER = 1000  # no answer to an exercise is a text this long


def shown(value) -> str:
    """repr(value), cut to MAX_SHOWN characters: a 1 MB string is quoted by its start and its length."""
    try:
        text = repr(value)
    except Exception:  # a learner's object whose repr fails
        text = f"<a {type(value).__name__}>"
    if len(text) <= MAX_SHOWN:
        return text
    size = f"{len(value):,d} characters" if isinstance(value, str) else f"{len(text):,d} characters shown"
    return f"{text[:MAX_SHOWN - 20]}... ({size})"


def _cut(text: str, limit: int = MAX_MESSAGE) -> str:
    return text if len(text) <= limit else f"{text[:limit - 40]}... ({len(text) - limit + 40:,d} characters cut)"


def report(ok: bool, message: str) -> bool:
    print(("Correct! " if ok else "Not yet: ") + _cut(message))
    return ok


def number(value, what: str):
    """float(value) when `value` is one finite number (int, float, numpy scalar, a one-element tensor or array,
    a short numeric string), else None after telling the learner what was expected."""
    got = None
    if isinstance(value, bool):
        return _not_a_number(value, what, "True and False are answers to yes/no questions")
    if isinstance(value, numbers.Real):
        got = float(value)
    elif isinstance(value, (torch.Tensor, np.ndarray)):
        if value.size == 0 if isinstance(value, np.ndarray) else value.numel() == 0:
            return _not_a_number(value, what, "it is empty")
        if (value.size if isinstance(value, np.ndarray) else value.numel()) != 1:
            return _not_a_number(value, what, f"it holds {tuple(value.shape)} values: reduce it to one "
                                              "(.item() on a tensor of one element, .mean() or .sum() to combine)")
        try:
            got = float(value.item())
        except (TypeError, ValueError, RuntimeError):
            return _not_a_number(value, what, f"its type is {value.dtype}")
    elif isinstance(value, str):
        if len(value) > 100:
            return _not_a_number(value, what, "it is a long text")
        try:
            got = float(value.strip().replace("_", ""))
        except ValueError:
            return _not_a_number(value, what, "the text does not read as a number")
    else:
        return _not_a_number(value, what, f"it is a {type(value).__name__}")
    if not math.isfinite(got):
        report(False, f"{what} is {got}, not a finite number. A NaN or inf means the computation broke somewhere "
                      "(0 / 0, log 0, exp of a large number): print the intermediate values to find where, then "
                      "give the number.")
        return None
    return got


def _not_a_number(value, what: str, why: str):
    report(False, f"give {what} as one number (e.g. 0.25), got {shown(value)}: {why}.")
    return None


def multiple_choice(choice, right: str, praise: str, why: dict) -> bool:
    """A one-letter answer: `praise` for the `right` letter, why[letter] for each wrong one."""
    options = sorted([right, *why])
    if choice is None:
        return report(False, f"replace None with one of {options}.")
    if not isinstance(choice, str) or choice not in options:
        return report(False, f"choose one of {options}, as a string; got {shown(choice)}.")
    return report(True, praise) if choice == right else report(False, why[choice])


def percentage(value, what: str) -> bool:
    """True (after telling the learner) when `value` is not a usable share: not one finite number, or a
    percentage where a share in [0, 1] was asked. False: float(value) is a number to check."""
    v = number(value, what)
    if v is None:
        return True
    if not 1 < v <= 100:
        return False
    report(False, f"give {what} as a number between 0 and 1, not a percentage ({v:g}% is {v / 100:g}).")
    return True


def close(a, b, tol: float = 1e-5) -> bool:
    """True when a and b (numbers or tensors of one shape) are finite and within `tol` (absolute + relative) of
    each other: accept if close, so NaN, inf and shapes that do not broadcast are never accepted."""
    try:
        a = torch.as_tensor(a, dtype=torch.float64)
        b = torch.as_tensor(b, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        return False
    if not (torch.isfinite(a).all() and torch.isfinite(b).all()):
        return False
    try:
        return bool(torch.allclose(a, b, rtol=tol, atol=tol))
    except RuntimeError:  # shapes that do not broadcast
        return False


def call(fn, *args):
    """fn(*args) as a float64 tensor, or the error message a learner should see."""
    if not callable(fn):
        return None, (f"pass your function itself (its name, without parentheses), got {shown(fn)} "
                      f"(a value of type {type(fn).__name__}).")
    try:
        out = fn(*args)
    except Exception as err:  # the learner's code failed: show the error, not a traceback
        return None, f"calling your function raised {type(err).__name__}: {_cut(str(err), 300)}"
    if out is None:
        return None, "your function returned None: write its body and return the result (a torch.Tensor)."
    if not isinstance(out, torch.Tensor):
        return None, f"your function should return a torch.Tensor, it returned {type(out).__name__}."
    return out.detach().double(), None


def expects(checker) -> str:
    """What a checker checks, from its docstring's first sentence."""
    doc = " ".join((checker.__doc__ or "").split())
    first = doc.split(". ")[0].rstrip(".") if doc else f"the answer {checker.__name__} checks"
    return first


def guarded(checker):
    """`checker`, made safe for any answer: an error raised inside it (an answer of a kind it does not read: a
    list, a text, a tensor of another shape) becomes one "Not yet" line naming what came and what it expects.
    Two answers are refused before the checker sees them: a text too long to be an answer (it would be quoted back
    whole), and a value where a checker of a function (first parameter `fn`) expects the function itself."""
    if getattr(checker, "guarded", False):
        return checker
    first = next(iter(inspect.signature(checker).parameters), None)

    @functools.wraps(checker)
    def safe(*args, **kwargs):
        answer = args[0] if args else kwargs.get(first)
        if isinstance(answer, str) and len(answer) > MAX_ANSWER:
            return report(False, f"your answer is a text of {len(answer):,d} characters ({shown(answer)}); "
                                 f"{checker.__name__} expects {expects(checker)}.")
        if first == "fn" and answer is not None and not callable(answer):
            return report(False, call(answer)[1])
        try:
            return checker(*args, **kwargs)
        except Exception as err:  # never a traceback under a learner's cell
            given = shown(answer) if args or first in kwargs else "your answer"
            return report(False, f"{checker.__name__} could not read {given} ({type(err).__name__}: "
                                 f"{_cut(str(err), 200)}). It expects {expects(checker)}.")

    safe.guarded = True
    return safe


def quiz(answers, questions: dict) -> bool:
    """A notebook's end-of-notebook quiz: `answers` {question number: letter}; `questions` {number: (right letter,
    praise, {wrong letter: why})}, or {number: a checker of one answer}. Each question gets its own line."""
    if not isinstance(answers, dict):
        return report(False, f"give the answers as a dict {{question number: letter}}, e.g. {{1: 'a', 2: 'c'}}; "
                             f"got {shown(answers)}.")
    unknown = [k for k in answers if k not in questions]
    if unknown:
        return report(False, f"this quiz has questions {sorted(questions)}; {shown(unknown)} is not one of them.")
    marks = []
    for n, question in questions.items():
        print(f"Question {n}: ", end="")
        marks.append(question(answers.get(n)) if callable(question) else multiple_choice(answers.get(n), *question))
    right = sum(marks)
    print(f"{right} of {len(marks)} right." + ("" if right == len(marks) else " Read the lines above, then try again."))
    return right == len(marks)
