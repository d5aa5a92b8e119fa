"""One record per setting: what a training or an architecture can be told, with its kind, its range or
choices, its default and its help text.

The records are the one schema: validation, the command line's flags, the sweepable settings and the Train
form's widgets are all built from them. A kind is one of:

- "int": a whole number (a Python int); "float": a finite number, whole if `whole` is set (a width of 2 may
  arrive as 2.0 from the command line and is built as 2);
- "bool"; "choice": one of `choices`; "text": a short printable text;
- "sizes": whole numbers >= 1, such as the hidden layer sizes (512, 256);
- "names": a list of names from `choices`, such as classes to train on (at least `low` of them);
- "settings": a mapping (an architecture's own settings, declared by the architecture).
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.base.errors import StudioError

KINDS = ("int", "float", "bool", "choice", "text", "sizes", "names", "settings")


@dataclass(frozen=True)
class Setting:
    name: str
    kind: str
    default: Any = None
    help: str = ""  # one line, lower case, no final period: the command line's help and the form's tooltip
    label: str = ""  # how a form labels it (default: the name, spaced and capitalised)
    noun: str = ""  # how a message names it (default: the name, spaced)
    choices: tuple | Callable[[], tuple] = ()  # "choice" and "names": the allowed values (a function if they grow)
    low: float | None = None  # the smallest value; for "names", the fewest names
    high: float | None = None  # the largest value; for "text", the most characters
    low_open: bool = False  # `low` itself is refused ("> 0")
    high_open: bool = False  # `high` itself is refused ("< 1")
    whole: bool = False  # "float": the number must be whole
    cap: float | None = None  # past the range, a sanity limit: larger values are "too large (at most cap)"
    rule: str = ""  # the requirement in words, where the generated wording would not say it well
    unit: str = ""  # what it counts: "pixels" for a shift; for "names", what one name is ("class")
    optional: bool = False  # None means "not set" (no limit, every class)
    sweepable: bool = False  # a sweep may give it a list of values
    flag: bool = True  # the command line has a flag for it
    # What a form offers (the setting itself may allow more):
    suggested: tuple = ()  # typical values, offered to pick from
    step: float | None = None  # the step of a slider or a number box
    usual_high: float | None = None  # where a form's slider or number box ends, below `high` or without one
    group: str = ""  # where the Train form shows it; "" = not on the form

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"setting {self.name!r}: unknown kind {self.kind!r}")
        spaced = self.name.replace("_", " ")
        object.__setattr__(self, "noun", self.noun or spaced)
        object.__setattr__(self, "label", self.label or spaced[:1].upper() + spaced[1:])

    @property
    def options(self) -> tuple:
        """The allowed values of a "choice" or "names" setting."""
        return tuple(self.choices() if callable(self.choices) else self.choices)

    @property
    def flag_name(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def requirement(self) -> str:
        """What a value must be, in words: "must be in [0, 1)"."""
        if self.rule:
            return self.rule
        if self.kind == "int":
            unit = f" of {self.unit}" if self.unit else ""
            return f"must be a whole number{unit}{self._range(whole=True)}"
        if self.kind == "float":
            bounded = self._range(whole=False)
            return f"must be{bounded}" if bounded else "must be a finite number"
        if self.kind == "bool":
            return "must be true or false"
        if self.kind == "choice":
            return f"must be one of {', '.join(map(str, self.options))}"
        if self.kind == "sizes":
            return "must be positive whole numbers"
        if self.kind == "names":
            return f"must list at least {self.low or 1:g} {self.unit or 'distinct'} names"
        if self.kind == "text":
            return f"must be a printable text of at most {self.high or 80:g} characters"
        return "must be a mapping of names to values"

    def _range(self, whole: bool) -> str:
        low, high = self.low, self.high
        if low is not None and high is not None:
            if whole and not self.low_open and not self.high_open:
                return f" in {low:g}-{high:g}"
            return f" in {'(' if self.low_open else '['}{low:g}, {high:g}{')' if self.high_open else ']'}"
        if low is not None:
            return f" {'>' if self.low_open else '>='} {low:g}"
        if high is not None:
            return f" {'<' if self.high_open else '<='} {high:g}"
        return ""

    def fits(self, value) -> bool:
        """Whether `value` is one this setting accepts (None only where it is optional)."""
        if value is None:
            return self.optional
        if self.kind == "int":
            return isinstance(value, int) and not isinstance(value, bool) and self._in_range(value)
        if self.kind == "float":
            return _finite(value) and self._in_range(value) and (not self.whole or _whole(value))
        if self.kind == "bool":
            return isinstance(value, bool)
        if self.kind == "choice":
            return isinstance(value, str) and value in self.options
        if self.kind == "sizes":
            return isinstance(value, (list, tuple)) and len(value) > 0 and all(_whole(v) and v >= 1 for v in value)
        if self.kind == "names":
            canonical = [self._canonical(v) for v in value] if isinstance(value, (list, tuple)) else [None]
            return None not in canonical and len(set(canonical)) == len(canonical) >= (self.low or 1)
        if self.kind == "text":
            return isinstance(value, str) and value.isprintable() and 0 < len(value) <= (self.high or 80)
        return isinstance(value, dict)

    def _in_range(self, value) -> bool:
        if self.low is not None and not (value > self.low if self.low_open else value >= self.low):
            return False
        return self.high is None or (value < self.high if self.high_open else value <= self.high)

    def _canonical(self, name):
        """A "names" item as its allowed spelling (any case, spaces around ignored); None if it is not one."""
        if not isinstance(name, str):
            return None
        lowered = {option.lower(): option for option in self.options}
        return lowered.get(name.strip().lower())

    def message(self, value, owner: str = "") -> str | None:
        """One line saying what is wrong with `value`, or None. A setting of an architecture is named after it
        ("lenet5: activation must be one of tanh, relu, got 'gelu'."); a training's own choice says "unknown
        optimizer 'rmsprop'; choose one of: ..."."""
        prefix = f"{owner}: " if owner else ""
        if self.fits(value):
            largest = max(value) if self.kind == "sizes" else value  # sizes: the cap holds for each one
            if self.cap is not None and largest > self.cap:
                shown = list(value) if isinstance(value, tuple) else value
                each = " each" if self.kind == "sizes" else ""
                return f"{prefix}{self.noun} {shown!r} is too large (at most {self.cap:g}{each})."
            return None
        if self.kind == "choice" and not owner:
            return f"unknown {self.noun} {value!r}; choose one of: {', '.join(map(str, self.options))}."
        if self.kind == "names" and isinstance(value, (list, tuple)):
            unknown = [v for v in value if self._canonical(v) is None]
            if unknown:
                what = self.unit or self.noun
                return f"{prefix}unknown {what} {unknown[0]!r}; choose from: {', '.join(self.options)}."
            canonical = [self._canonical(v) for v in value]
            repeated = next((c for c in canonical if canonical.count(c) > 1), None)
            if repeated is not None:
                return f"{prefix}{self.noun} names {repeated!r} twice."
        shown = list(value) if isinstance(value, tuple) else value
        return f"{prefix}{self.noun} {self.requirement}, got {shown!r}."

    def check(self, value, owner: str = "") -> None:
        """Raise StudioError with `message` if `value` does not fit."""
        problem = self.message(value, owner)
        if problem:
            raise StudioError(problem)

    def normalise(self, value):
        """A checked value in its usual form: whole numbers as int, sizes as a tuple, names as spelled in
        `choices`."""
        if value is None:
            return None
        if self.kind == "float" and self.whole:
            return int(value)
        if self.kind == "sizes":
            return tuple(int(v) for v in value)
        if self.kind == "names":
            return [self._canonical(v) for v in value]
        return value


def _finite(x) -> bool:
    if isinstance(x, bool):
        return False
    return isinstance(x, int) or (isinstance(x, float) and math.isfinite(x))


def _whole(x) -> bool:
    return _finite(x) and (isinstance(x, int) or x.is_integer())
