"""Prometheus as the suite reads it: its HTTP API (targets, configuration, rules, queries, alerts) over httpx.

Every call is kept as a `PromCall` (what was asked, what came back) so that the evidence shows the
PromQL queries and their answers. A Prometheus that cannot be reached or refuses a query raises
`PrometheusError` with the URL and the reason.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import yaml

from citadel_acceptance.report.evidence import ENVIRONMENT_NOT_READY

DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0, "y": 31536000.0}


class PrometheusError(Exception):
    """Prometheus did not answer, or refused what it was asked; the message names the URL and the reason."""


@dataclass
class PromCall:
    """One call of the HTTP API: path, parameters, HTTP status and the answer's `data` (or the error)."""

    path: str
    params: dict[str, Any]
    status: int
    data: Any = None
    error: str = ""
    elapsed_ms: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view for the evidence (long answers cut)."""
        text = repr(self.data)
        data = self.data if len(text) <= 20000 else f"{text[:20000]}... ({len(text)} characters)"
        return {"path": self.path, "params": self.params, "status": self.status, "answer": data,
                "error": self.error, "elapsed_ms": round(self.elapsed_ms, 1)}


@dataclass(frozen=True)
class Target:
    """One active scrape target."""

    job: str
    instance: str
    health: str  # up / down / unknown (not scraped yet)
    scrape_url: str
    last_error: str
    last_scrape: str
    last_scrape_duration_s: float
    scrape_interval_s: float | None  # None where the server does not report it

    def as_dict(self) -> dict[str, Any]:
        """A row of the scrape-target table."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class Rule:
    """One loaded rule (alerting or recording) and how its last evaluation went."""

    name: str
    kind: str  # alerting / recording
    group: str
    file: str
    query: str
    health: str
    last_error: str
    state: str = ""  # alerting rules: inactive / pending / firing
    duration_s: float = 0.0  # alerting rules: `for`

    def as_dict(self) -> dict[str, Any]:
        """A row of the rule table."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class Alert:
    """One active alert (pending or firing)."""

    name: str
    state: str
    labels: dict[str, str]
    active_at: str
    value: str

    def as_dict(self) -> dict[str, Any]:
        """A row of the alert table."""
        return dict(self.__dict__)


@dataclass
class PrometheusProbe:
    """A Prometheus server's HTTP API; `calls` holds every exchange since the last `take_calls`."""

    base_url: str
    timeout_s: float = 10.0
    calls: list[PromCall] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=httpx.Timeout(self.timeout_s, connect=5.0))

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def take_calls(self) -> list[PromCall]:
        """The calls made since the previous take (for one gate's evidence)."""
        calls, self.calls = self.calls, []
        return calls

    def api(self, path: str, **params: Any) -> Any:
        """GET /api/v1/PATH and return its `data`; anything but a success raises PrometheusError."""
        started = time.perf_counter()
        call = PromCall(path=f"/api/v1/{path}", params=dict(params), status=0)
        self.calls.append(call)
        try:
            response = self._http.get(call.path, params=params)
        except httpx.HTTPError as exc:
            call.error = f"{type(exc).__name__}: {exc}"
            raise PrometheusError(f"{ENVIRONMENT_NOT_READY}: Prometheus at {self.base_url} is unreachable ({call.error})") from exc
        finally:
            call.elapsed_ms = (time.perf_counter() - started) * 1000
        call.status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = {"status": "error", "error": response.text[:500]}
        if response.status_code != 200 or body.get("status") != "success":
            call.error = str(body.get("error") or f"HTTP {response.status_code}")
            raise PrometheusError(f"Prometheus at {self.base_url} refused GET {call.path} {params}: {call.error}")
        call.data = body.get("data")
        return call.data

    def targets(self) -> list[Target]:
        """Every active scrape target with its health."""
        data = self.api("targets", state="active")
        return [Target(job=t.get("labels", {}).get("job", t.get("scrapePool", "")),
                       instance=t.get("labels", {}).get("instance", ""), health=t.get("health", "unknown"),
                       scrape_url=t.get("scrapeUrl", ""), last_error=t.get("lastError", ""),
                       last_scrape=t.get("lastScrape", ""),
                       last_scrape_duration_s=float(t.get("lastScrapeDuration", 0.0) or 0.0),
                       scrape_interval_s=parse_duration(t["scrapeInterval"]) if t.get("scrapeInterval") else None)
                for t in data.get("activeTargets", [])]

    def configuration(self) -> dict[str, Any]:
        """The configuration the server runs with (its YAML, parsed)."""
        return yaml.safe_load(self.api("status/config")["yaml"]) or {}

    def scrape_intervals(self) -> dict[str, float]:
        """Seconds between two scrapes of each job, from the running configuration (job value, else global)."""
        config = self.configuration()
        default = config.get("global", {}).get("scrape_interval", "1m")
        return {job["job_name"]: parse_duration(job.get("scrape_interval", default))
                for job in config.get("scrape_configs", [])}

    def rules(self) -> list[Rule]:
        """Every loaded rule of every group."""
        rules = []
        for group in self.api("rules").get("groups", []):
            for rule in group.get("rules", []):
                rules.append(Rule(name=rule.get("name", ""), kind=rule.get("type", ""), group=group.get("name", ""),
                                  file=group.get("file", ""), query=rule.get("query", ""),
                                  health=rule.get("health", ""), last_error=rule.get("lastError", ""),
                                  state=rule.get("state", ""), duration_s=float(rule.get("duration", 0) or 0)))
        return rules

    def alerts(self) -> list[Alert]:
        """Every pending or firing alert."""
        return [Alert(name=a.get("labels", {}).get("alertname", ""), state=a.get("state", ""),
                      labels=dict(a.get("labels", {})), active_at=a.get("activeAt", ""), value=str(a.get("value", "")))
                for a in self.api("alerts").get("alerts", [])]

    def query(self, promql: str) -> list[dict[str, Any]]:
        """An instant query now: the vector's samples (`metric`, `value`)."""
        data = self.api("query", query=promql)
        return data.get("result", []) if data.get("resultType") == "vector" else [{"metric": {}, "value": data.get("result")}]

    def query_range(self, promql: str, start: float, end: float, step_s: float) -> list[dict[str, Any]]:
        """A range query: one series (`metric`, `values`) per label set."""
        data = self.api("query_range", query=promql, start=f"{start:.3f}", end=f"{end:.3f}", step=f"{step_s:g}")
        return data.get("result", [])


def parse_duration(text: str) -> float:
    """Seconds in a Prometheus duration (`10s`, `1m30s`, `500ms`, `1h`)."""
    total, number, i = 0.0, "", 0
    while i < len(text):
        char = text[i]
        if char.isdigit() or char == ".":
            number += char
            i += 1
            continue
        unit = "ms" if text.startswith("ms", i) else char
        if unit not in DURATION_UNITS or not number:
            raise ValueError(f"not a Prometheus duration: {text!r}")
        total += float(number) * DURATION_UNITS[unit]
        number, i = "", i + len(unit)
    if number:
        raise ValueError(f"not a Prometheus duration (no unit): {text!r}")
    return total
