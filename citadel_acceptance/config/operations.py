"""The deployment's operational tools (SC4): the `[operations]` section."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OperationsSettings:
    """The profile's `[operations]`: backup and restore commands ({file}, {database}, {python} filled in)
    and the gateway's JSON-lines log as the suite's host sees it."""

    backup_command: str = ""
    restore_command: str = ""
    gateway_log: str = ""  # "" in the embedded profile: filled in from the running stack
