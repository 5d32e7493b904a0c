"""The database the gateway writes to: the `[database]` section (expected objects, critical queries, retention)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from citadel_acceptance.config.convert import frozen_map


@dataclass(frozen=True)
class DatabaseSettings:
    """The profile's `[database]`: what the schema must hold, which queries are critical, how long rows stay."""

    retention_days: int = 30
    expected_tables: tuple[str, ...] = ()
    expected_indexes: tuple[str, ...] = ()
    expected_constraints: tuple[str, ...] = ()
    big_tables: tuple[str, ...] = ()  # no critical query may scan these sequentially
    critical_queries: Mapping[str, str] = field(default_factory=frozen_map)  # name -> read-only SQL

    def expected(self) -> dict[str, tuple[str, ...]]:
        """The expected schema objects by kind (tables, indexes, constraints)."""
        return {"tables": self.expected_tables, "indexes": self.expected_indexes,
                "constraints": self.expected_constraints}
