"""The checks the frozen configuration classes run in ``__post_init__``: a number in a range, a value among choices,
finite numbers, and a table of (condition, message) pairs. Each failure raises one exception with a one-line message
that starts with the field's name, so that a configuration file or a flag can say where it came from.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

__all__ = ["check_number", "check_choice", "check_finite", "check_all"]


def check_number(name: str, value: Any, low: float, high: float = math.inf, *, integer: bool = False,
                 optional: bool = False, low_open: bool = False, error: type[Exception] = ValueError) -> None:
    """Raise ``error`` unless ``value`` is a number (an ``int`` when ``integer``; never a bool) in ``[low, high]``
    (``(low, high]`` when ``low_open``), or None when ``optional``. NaN is out of every range; so is infinity, unless
    ``high`` is infinite."""
    if value is None and optional:
        return
    kind = (int,) if integer else (int, float)
    if (isinstance(value, bool) or not isinstance(value, kind) or not low <= value <= high
            or (low_open and value == low)):
        what = "an integer" if integer else "a number"
        if high == math.inf:
            bound = f"{'>' if low_open else '>='} {low:g}"
        else:
            bound = f"in {'(' if low_open else '['}{low:g}, {high:g}]"
        raise error(f"{name} must be {what} {bound}{' or None' if optional else ''}, got {value!r}")


def check_choice(name: str, value: Any, choices: Iterable[Any], *, error: type[Exception] = ValueError) -> None:
    """Raise ``error`` unless ``value`` is one of ``choices``."""
    choices = tuple(choices)
    if value not in choices:
        raise error(f"{name} must be one of {', '.join(str(c) for c in choices)}, got {value!r}")


def check_finite(owner: object, names: Iterable[str], *, prefix: str = "", what: str = "finite",
                 error: type[Exception] = ValueError) -> None:
    """Raise ``error`` unless each named attribute of ``owner`` (a number, or a tuple of numbers) is finite; one that
    is None (an optional field left unset) passes."""
    for name in names:
        value = getattr(owner, name)
        if value is None:
            continue
        if not all(math.isfinite(v) for v in (value if isinstance(value, tuple) else (value,))):
            raise error(f"{prefix}{name} must be {what}, got {value}")


def check_all(checks: Iterable[tuple[bool, str]], *, error: type[Exception] = ValueError) -> None:
    """Raise ``error`` with the message of the first ``(condition, message)`` pair whose condition is false."""
    for ok, message in checks:
        if not ok:
            raise error(message)
