"""The shape of a fault: the part it breaks, its arguments, the spec that names it, and the registry of all of them.

A fault is named at launch as one spec, ``name`` or ``name:arg:arg`` (``model_slower:phi3:4``). A spec is
parsed once, by the registry, into a ``FaultSpec`` whose arguments are typed (``("phi3", 2500)``) and checked:
an unknown name, a missing or extra argument or a value of the wrong kind is a ValueError saying what the
fault needs, with an example.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Callable, Iterator, Mapping

ArgValue = int | float | str


class Part(StrEnum):
    """The part of the stack a fault breaks (the part that honours it)."""

    GATEWAY = "gateway"
    VECTOR_STORE = "vector_store"
    POSTGRES = "postgres"
    PROMETHEUS = "prometheus"
    STACK = "stack"


@dataclass(frozen=True)
class Arg:
    """One argument of a fault: its placeholder in the argument form (``MS``), what it must be, an example value."""

    placeholder: str
    meaning: str  # what a value must be, for error messages: "a whole number", "one of a, b"
    convert: Callable[[str], ArgValue | None]  # the typed value, None when the text is not one
    example: str
    choices: tuple[str, ...] = ()
    default: ArgValue | None = None  # set: the argument may be left out (only the last ones may)

    @property
    def optional(self) -> bool:
        return self.default is not None


_WHOLE = re.compile(r"\d+")
_NUMBER = re.compile(r"\d+(\.\d+)?")
_NAME = re.compile(r"[^\s:]+")


def whole(placeholder: str, example: str, default: int | None = None) -> Arg:
    """A whole number, zero or more (milliseconds, a count, a percentage)."""
    return Arg(placeholder, "a whole number", lambda text: int(text) if _WHOLE.fullmatch(text) else None,
               example, default=default)


def number(placeholder: str, example: str) -> Arg:
    """A decimal number, zero or more (``15``, ``0.5``)."""
    return Arg(placeholder, "a number", lambda text: float(text) if _NUMBER.fullmatch(text) else None, example)


def fraction(placeholder: str, example: str) -> Arg:
    """A decimal number in (0, 1]."""
    def convert(text: str) -> float | None:
        value = float(text) if _NUMBER.fullmatch(text) else None
        return value if value is not None and 0.0 < value <= 1.0 else None
    return Arg(placeholder, "a number in (0, 1]", convert, example)


def name(placeholder: str, example: str) -> Arg:
    """A name (a model id, an index, a job): any text without blanks."""
    return Arg(placeholder, "a name", lambda text: text if _NAME.fullmatch(text) else None, example)


def one_of(placeholder: str, choices: tuple[str, ...]) -> Arg:
    """One of a few words."""
    return Arg(placeholder, f"one of {', '.join(choices)}", lambda text: text if text in choices else None,
               choices[0], choices=choices)


@dataclass(frozen=True)
class Fault:
    """One injectable defect: its name, the part it breaks, what it does, and the arguments it takes."""

    name: str
    part: Part
    description: str
    args: tuple[Arg, ...] = ()

    @property
    def form(self) -> str:
        """The name with its argument form: ``model_slower:MODEL:FACTOR``, ``latency_creep:MS_PER_MIN[:AFTER_S]``."""
        return self.name + _args_form(self.args)

    @property
    def example(self) -> str:
        """A valid spec of this fault: ``model_slower:phi3:4``."""
        return ":".join([self.name, *(arg.example for arg in self.args)])

    def spec(self, text: str) -> FaultSpec:
        """Parse a spec of this fault (``text`` starts with its name); bad arguments raise ValueError."""
        given = text.split(":")[1:]
        if given and not self.args:
            raise ValueError(f"fault {self.name} takes no argument, got {text!r}")
        required = sum(1 for arg in self.args if not arg.optional)
        if not required <= len(given) <= len(self.args):
            raise ValueError(f"{self.name} needs {_args_form(self.args)[1:]}, e.g. {self.example}, got {text!r}")
        values: list[ArgValue] = []
        for arg, raw in zip(self.args, given):
            value = arg.convert(raw)
            if value is None:
                if arg.choices:
                    raise ValueError(f"{self.name} needs {arg.meaning} as {arg.placeholder}, e.g. {self.example}, "
                                     f"got {text!r}")
                raise ValueError(f"{self.name} needs {_args_form(self.args)[1:]} with {arg.placeholder} {arg.meaning}, "
                                 f"e.g. {self.example}, got {text!r}")
            values.append(value)
        values += [arg.default for arg in self.args[len(given):] if arg.default is not None]
        return FaultSpec(self, tuple(values), text)


def _args_form(args: tuple[Arg, ...]) -> str:
    """``:MODEL:MS``; optional arguments in brackets (``:MS_PER_MIN[:AFTER_S]``); "" without arguments."""
    return "".join(f"[:{arg.placeholder}]" if arg.optional else f":{arg.placeholder}" for arg in args)


@dataclass(frozen=True)
class FaultSpec:
    """One fault as named at launch, parsed: the fault, its typed arguments (defaults filled in), the text given."""

    fault: Fault
    args: tuple[ArgValue, ...]
    text: str

    @property
    def name(self) -> str:
        return self.fault.name

    @property
    def part(self) -> Part:
        return self.fault.part

    def __str__(self) -> str:
        return self.text


class Catalog(Mapping[str, Fault]):
    """The registry of every fault, by name, in the order they were defined; each name defined once."""

    def __init__(self) -> None:
        self._faults: dict[str, Fault] = {}

    def define(self, fault_name: str, part: Part, description: str, *args: Arg) -> Fault:
        """Register a fault and return it (kept as the module constant the parts import)."""
        if fault_name in self._faults:
            raise ValueError(f"fault {fault_name!r} defined twice")
        if not description or not description.strip():
            raise ValueError(f"fault {fault_name!r} needs a description")
        if any(earlier.optional and not later.optional for earlier, later in zip(args, args[1:])):
            raise ValueError(f"fault {fault_name!r}: only its last arguments may be optional")
        fault = Fault(fault_name, part, description, tuple(args))
        self._faults[fault_name] = fault
        return fault

    def parse(self, spec: object) -> FaultSpec:
        """Parse one spec (``name`` or ``name:arg:arg``); an unknown name or bad arguments raise ValueError."""
        fault = self._faults.get(spec.split(":", 1)[0]) if isinstance(spec, str) else None
        if fault is None:
            raise ValueError(f"unknown fault {spec!r}; known faults: {self.known()}")
        return fault.spec(spec)  # type: ignore[arg-type]

    def known(self) -> str:
        """Every fault name, sorted, comma-separated (for error messages)."""
        return ", ".join(sorted(self._faults))

    def of_part(self, part: Part | str) -> dict[str, Fault]:
        """The faults one part honours, by name."""
        return {fault.name: fault for fault in self._faults.values() if fault.part == part}

    def __getitem__(self, key: str) -> Fault:
        return self._faults[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._faults)

    def __len__(self) -> int:
        return len(self._faults)
