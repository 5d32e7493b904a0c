"""The faults one process runs with (``FaultSet``), and the launcher's helpers over lists of fault specs."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Iterable, Iterator, TypeVar

from .catalog import CATALOG
from .model import ArgValue, Fault, FaultSpec, Part

T = TypeVar("T", bound="FaultSet")


@dataclass(frozen=True)
class FaultSet:
    """Parsed, validated fault specs: ``SLOW_QUERY in faults``, ``faults.value(SLOW_QUERY, 0)``.

    A part's own view (``citadel_stack.gateway.faults.FaultSet``) sets ``PART`` and refuses the faults of
    other parts; this base class takes any fault of the catalog.
    """

    specs: tuple[FaultSpec, ...] = ()
    PART: ClassVar[Part | None] = None

    @classmethod
    def parse(cls: type[T], specs: Iterable[object]) -> T:
        """Parse every spec (``name`` or ``name:arg:arg``); unknown faults, bad arguments or (for a part's view)
        a fault of another part raise ValueError."""
        parsed = tuple(CATALOG.parse(spec) for spec in specs)
        foreign = [spec.text for spec in parsed if cls.PART is not None and spec.part != cls.PART]
        if foreign:
            own = ", ".join(CATALOG.of_part(cls.PART))  # type: ignore[arg-type]
            raise ValueError(f"fault(s) {', '.join(foreign)} are not the {cls.PART}'s; its faults: {own}")
        return cls(parsed)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(spec.name for spec in self.specs)

    def of(self, fault: Fault) -> tuple[FaultSpec, ...]:
        """Every occurrence of `fault` (``hide_model:phi3`` and ``hide_model:hermes`` are two)."""
        return tuple(spec for spec in self.specs if spec.name == fault.name)

    def args_of(self, fault: Fault) -> list[tuple[ArgValue, ...]]:
        """The typed arguments of every occurrence of `fault`."""
        return [spec.args for spec in self.of(fault)]

    def values(self, fault: Fault) -> list[ArgValue]:
        """The first argument of every occurrence of `fault` (``hide_model:phi3`` -> ``["phi3"]``)."""
        return [spec.args[0] for spec in self.of(fault)]

    def value(self, fault: Fault, default: ArgValue | None = None) -> ArgValue | None:
        """The first argument of the first occurrence of `fault` (``slow_query:200`` -> 200), `default` when absent."""
        values = self.values(fault)
        return values[0] if values else default

    def number(self, fault: Fault, default: int | float = 0) -> int | float:
        """The numeric first argument of `fault` (``slow_query:200`` -> 200), `default` when absent."""
        value = self.value(fault)
        if isinstance(value, str):
            raise TypeError(f"{fault.form}: its first argument is not a number")
        return default if value is None else value

    def texts(self, part: Part | str | None = None) -> list[str]:
        """The specs as given, all or those of one part (what a part's process is started with)."""
        return [spec.text for spec in self.specs if part is None or spec.part == part]

    def __contains__(self, item: object) -> bool:
        name = item.name if isinstance(item, Fault) else item
        return any(spec.name == name for spec in self.specs)

    def __iter__(self) -> Iterator[FaultSpec]:
        return iter(self.specs)

    def __bool__(self) -> bool:
        return bool(self.specs)


def fault_name(spec: str) -> str:
    """The name of a fault spec (``model_slower:phi3:4`` -> ``model_slower``)."""
    return spec.split(":", 1)[0]


def validate_faults(specs: Iterable[object]) -> FaultSet:
    """Parse a stack's fault specs; unknown faults raise ValueError naming them and the known ones, bad arguments
    a ValueError saying what the fault needs."""
    specs = list(specs)
    unknown = [str(spec) for spec in specs if not isinstance(spec, str) or fault_name(spec) not in CATALOG]
    if unknown:
        raise ValueError(f"unknown fault(s) {', '.join(unknown)}; known faults: {CATALOG.known()}")
    return FaultSet.parse(specs)


def for_part(specs: Iterable[object], part: Part | str) -> list[str]:
    """The fault specs (as given) that one part of the stack honours."""
    return FaultSet.parse(specs).texts(part)
