"""From TOML tables to frozen dataclasses, driven by the dataclasses' own fields and type hints.

A section is a frozen dataclass: its fields are the keys the table may hold, their type hints the types
the values must have, their defaults what an absent key means (written there and nowhere else). A field
whose name differs from its TOML key says so with `metadata={"key": "..."}`. After a section is built,
its `validate()` (when it has one) checks what a type cannot say. Lists become tuples and tables of
names chosen by the profile (`Mapping[str, X]`) become read-only mappings, so the whole tree is frozen.
"""
from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from citadel_acceptance.errors import SuiteConfigError

TRUE_WORDS, FALSE_WORDS = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def frozen_map(values: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    """A read-only mapping (the default of every `Mapping[str, X]` field)."""
    return types.MappingProxyType(dict(values or {}))


def toml_key(field: dataclasses.Field) -> str:
    """The key a field is written as in a profile."""
    return field.metadata.get("key", field.name)


@functools.cache
def hints(cls: type) -> dict[str, Any]:
    """The resolved type hints of a section's fields."""
    return typing.get_type_hints(cls)


def field_hint(cls: type, key: str) -> Any | None:
    """The type of the field written as `key` in a section, or None when the section has no such key."""
    for field in dataclasses.fields(cls):
        if toml_key(field) == key and field.init:
            return hints(cls)[field.name]
    return None


def known_keys(cls: type, given: Mapping[str, Any] = types.MappingProxyType({})) -> list[str]:
    """The keys a section's table may hold."""
    return sorted(toml_key(f) for f in dataclasses.fields(cls) if f.init and f.name not in given)


def section(cls: type, table: Any, where: str, path: Path, given: Mapping[str, Any] | None = None) -> Any:
    """Build the dataclass `cls` from a TOML table; every problem names the dotted key and the file.

    `given` holds fields that do not come from the table (the profile's own path, for instance).
    """
    given = dict(given or {})
    if not isinstance(table, dict):
        raise SuiteConfigError(f"profile {path}: {where or 'the file'} must be a table, not {table!r}")
    by_key = {toml_key(f): f for f in dataclasses.fields(cls) if f.init and f.name not in given}
    for key in table:
        if key not in by_key:
            here = _join(where, key)
            raise SuiteConfigError(
                f"profile {path}: unknown key {here!r}. Known keys here: {', '.join(sorted(by_key))}. "
                "Fix the spelling or remove it."
            )
    values = dict(given)
    for key, field in by_key.items():
        here = _join(where, key)
        if key in table:
            values[field.name] = value(table[key], hints(cls)[field.name], here, path)
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            if is_table(hints(cls)[field.name]):
                raise SuiteConfigError(f"profile {path}: the section [{here}] is missing, and it is required")
            raise SuiteConfigError(f"profile {path}: {here} is required: add `{key} = ...` under [{where or 'the top'}]")
    built = cls(**values)
    validate = getattr(built, "validate", None)
    if callable(validate):
        try:
            validate()
        except SuiteConfigError as exc:
            raise SuiteConfigError(f"profile {path}: {exc}") from None
    return built


def value(raw: Any, hint: Any, where: str, path: Path) -> Any:
    """One TOML value checked against a type hint and converted (lists to tuples, tables to sections)."""
    hint = strip_optional(hint)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return section(hint, raw, where, path)
    if origin in (Mapping, dict):
        if not isinstance(raw, dict):
            raise SuiteConfigError(f"profile {path}: {where} must be a table, not {raw!r}")
        return frozen_map({key: value(item, args[1], _join(where, key), path) for key, item in raw.items()})
    if origin is tuple:
        if not isinstance(raw, list):
            raise SuiteConfigError(f"profile {path}: {where} must be a list, not {raw!r}")
        return tuple(value(item, args[0], f"{where}[{i}]", path) for i, item in enumerate(raw))
    if hint is Any:
        return raw
    if not _is_a(raw, hint):
        raise SuiteConfigError(f"profile {path}: {where} must be {type_words(hint)}, not {raw!r}")
    return float(raw) if hint is float else raw


def from_text(text: str, hint: Any, dotted: str, current: Any = None) -> Any:
    """A value given on the command line (`-D dotted=text`), typed by the field it sets."""
    hint = strip_optional(hint)
    try:
        if typing.get_origin(hint) is tuple:
            item = typing.get_args(hint)[0]
            return [from_text(part.strip(), item, dotted) for part in text.split(",") if part.strip()]
        if hint is bool:
            if text.lower() in TRUE_WORDS:
                return True
            if text.lower() in FALSE_WORDS:
                return False
            raise ValueError(text)
        if hint is int:
            return int(text)
        if hint is float:
            return float(text)
    except ValueError as exc:
        like = f" like {current!r}" if current is not None else ""
        name = "list" if typing.get_origin(hint) is tuple else getattr(hint, "__name__", str(hint))
        raise SuiteConfigError(f"-D {dotted}={text!r}: expected a {name}{like}") from exc
    return text


def plain(data: Any) -> Any:
    """A section as plain dicts, lists and scalars (what JSON and the embedded stack take)."""
    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        return {toml_key(f): plain(getattr(data, f.name)) for f in dataclasses.fields(data)}
    if isinstance(data, Mapping):
        return {key: plain(item) for key, item in data.items()}
    if isinstance(data, (list, tuple)):
        return [plain(item) for item in data]
    return data


def type_words(hint: Any) -> str:
    """How an error message names a type."""
    if hint is float:
        return "int or float"
    return getattr(hint, "__name__", str(hint))


def _is_a(raw: Any, hint: Any) -> bool:
    if hint is float:
        return isinstance(raw, (int, float)) and not isinstance(raw, bool)
    if hint is int:
        return isinstance(raw, int) and not isinstance(raw, bool)
    return isinstance(raw, hint)


def is_table(hint: Any) -> bool:
    """Whether a type is written as a TOML table (a section, or a table of names)."""
    hint = strip_optional(hint)
    return dataclasses.is_dataclass(hint) or typing.get_origin(hint) in (Mapping, dict)


def entry_hint(hint: Any, key: str) -> Any | None:
    """The type of `key` inside a section (its field) or a table of names (any entry); None when it has none."""
    hint = strip_optional(hint)
    if dataclasses.is_dataclass(hint):
        return field_hint(hint, key)
    if typing.get_origin(hint) in (Mapping, dict):
        return typing.get_args(hint)[1]
    return None


def default_of(hint: Any, key: str) -> Any:
    """The default of the field written as `key` in a section (None when it has no plain default)."""
    hint = strip_optional(hint)
    if dataclasses.is_dataclass(hint):
        for field in dataclasses.fields(hint):
            if toml_key(field) == key and field.default is not dataclasses.MISSING:
                return field.default
    return None


def strip_optional(hint: Any) -> Any:
    """`X | None` as X (no TOML value is None: absent means the default)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        rest = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return hint


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key
