"""The stability run (T2-008): the `[soak]` section (every value overridable with `-D soak.NAME=...`)."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from citadel_acceptance.errors import SuiteConfigError

MEMORY_SOURCES = ("process", "metrics", "none")
RESTART_SOURCES = ("stack", "metrics", "none")


@dataclass(frozen=True)
class SoakSettings:
    """How long, how hard, how often to sample, and where the checkpoint lives.

    `duration_s` is the soak's length (72 h by the plan); `rate_rps` its normal load (open loop), at most
    `capacity_share` x the chat capacity the target calibrated where that share is above 0 (a resumed run keeps
    the rate it started with);
    `interval_s` the sampling interval (health, memory, connections, GPUs, processes); `window_s` the
    latency window; `warmup_s` the start left out of the latency windows and the memory fit;
    `checkpoint_every_s` how much load runs between two checkpoints; `plot_every_s` how often the
    interim plots and report are rewritten. `model` '' means the profile's first model (the loader fills
    it in); `checkpoint_dir` '' means `<reports_dir>/soak`; `run_id` '' means this run's id (give an
    earlier one to resume it).
    """

    duration_s: float = 259200.0
    rate_rps: float = 1.0
    capacity_share: float = 0.0
    interval_s: float = 10.0
    window_s: float = 600.0
    warmup_s: float = 60.0
    checkpoint_every_s: float = 300.0
    plot_every_s: float = 300.0
    progress_every_s: float = 30.0
    model: str = ""
    max_tokens: int = 16
    prompt: str = "Reply with one short sentence: what is the capital of France?"
    checkpoint_dir: str = ""
    run_id: str = ""
    memory_source: str = "process"
    memory_metric: str = "process_resident_memory_bytes"
    restart_source: str = "stack"

    def validate(self) -> None:
        """Raise SuiteConfigError naming the first value that cannot make a soak."""
        if self.duration_s <= 0 or self.rate_rps <= 0 or self.interval_s <= 0 or self.window_s <= 0:
            raise SuiteConfigError("soak.duration_s, rate_rps, interval_s and window_s must be above 0")
        if not 0.0 <= self.capacity_share <= 1.0:
            raise SuiteConfigError(f"soak.capacity_share is a share of the calibrated capacity, from 0 to 1, "
                                   f"not {self.capacity_share}")
        if not 0 <= self.warmup_s < self.duration_s:
            raise SuiteConfigError(f"soak.warmup_s ({self.warmup_s:g}) must be below soak.duration_s ({self.duration_s:g})")
        if self.checkpoint_every_s < 1:
            raise SuiteConfigError("soak.checkpoint_every_s must be at least 1 s")
        if self.memory_source not in MEMORY_SOURCES:
            raise SuiteConfigError(f"soak.memory_source must be one of {', '.join(MEMORY_SOURCES)}")
        if self.restart_source not in RESTART_SOURCES:
            raise SuiteConfigError(f"soak.restart_source must be one of {', '.join(RESTART_SOURCES)}")

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view (kept in the checkpoint: a resumed run keeps the settings it started with)."""
        return asdict(self)
