"""A run of the suite against one target: the profile, the stack (started or attached), the clients.

`environment.py` opens one `RunSession` in `before_all` and closes it in `after_all`; steps reach it
as `context.session`. Run options come from behave's userdata (`-D NAME=VALUE`): plain names are
options of the run, dotted names change one value of the profile.
"""
from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import httpx

from citadel_acceptance.target.data_api import DataApi
from citadel_acceptance.errors import EnvironmentNotReady, SuiteConfigError
from citadel_acceptance.target.gateway_client import GatewayClient
from citadel_acceptance.config.profile import Profile, load_profile
from citadel_acceptance.report.redaction import Redactor
from citadel_acceptance.config.thresholds import Thresholds
from citadel_acceptance.run.test_data import RunData, new_run_id
from citadel_acceptance.target.base import Target
from citadel_acceptance.target.deployment import DeploymentTarget

REPO_ROOT = Path(__file__).resolve().parents[2]
RUN_OPTIONS = {
    "profile": "the profile to run against (a name in profiles/ or a path to a .toml file)",
    "stack_dir": "where the embedded stack keeps its state (default .stack/default)",
    "faults": "comma-separated faults to start the embedded stack with (self-test only)",
    "keep_stack": "yes: leave an embedded stack this run started running afterwards",
    "allow_destructive": "yes/no: run scenarios tagged @destructive (the profile decides by default)",
    "allow_mutation": "yes/no: run scenarios tagged @mutates, which write to the target's data (the profile decides by default)",
    "reports_dir": "where the gate verdicts of the run (gates.json) go (default reports)",
}
FOREIGN_PREFIXES = ("AllureFormatter.", "behave.")
TRUE = ("1", "yes", "true", "on")


@dataclass(frozen=True)
class RunOptions:
    """The run's options and the profile values changed from the command line."""

    profile: str
    stack_dir: Path
    faults: tuple[str, ...]
    keep_stack: bool
    allow_destructive: bool | None
    reports_dir: Path
    overrides: dict[str, str] = field(default_factory=dict)
    allow_mutation: bool | None = None

    @classmethod
    def from_userdata(cls, userdata: Mapping[str, Any]) -> RunOptions:
        """Split userdata into run options and profile overrides; unknown plain names are mistakes."""
        overrides: dict[str, str] = {}
        for key in userdata:
            if key in RUN_OPTIONS or key.startswith(FOREIGN_PREFIXES):
                continue
            if "." in key:
                overrides[key] = str(userdata[key])
                continue
            known = ", ".join(sorted(RUN_OPTIONS))
            raise SuiteConfigError(
                f"unknown option -D {key}: run options are {known}; a profile value is changed with a dotted "
                "name such as -D gateway.base_url=URL"
            )
        destructive, mutation = userdata.get("allow_destructive"), userdata.get("allow_mutation")
        faults = tuple(f.strip() for f in str(userdata.get("faults", "")).split(",") if f.strip())
        return cls(
            profile=str(userdata.get("profile", "embedded")),
            stack_dir=(REPO_ROOT / str(userdata.get("stack_dir", ".stack/default"))).resolve(),
            faults=faults,
            keep_stack=str(userdata.get("keep_stack", "no")).lower() in TRUE,
            allow_destructive=None if destructive is None else str(destructive).lower() in TRUE,
            reports_dir=(REPO_ROOT / str(userdata.get("reports_dir", "reports"))).resolve(),
            overrides=overrides,
            allow_mutation=None if mutation is None else str(mutation).lower() in TRUE,
        )


@dataclass
class RunSession:
    """The target of this run and the shared clients; created once per run."""

    options: RunOptions
    profile: Profile
    thresholds: Thresholds
    redactor: Redactor
    gateway: GatewayClient
    target: Target = field(default_factory=DeploymentTarget)
    startup_s: float = 0.0
    run_data: RunData | None = None
    leftovers: dict[str, int] = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        """The id every object this run creates carries."""
        return self.run_data.run_id if self.run_data else ""

    @property
    def api(self) -> DataApi:
        """The gateway's data and admin API."""
        return self.run_data.api

    @property
    def allow_destructive(self) -> bool:
        """Whether @destructive scenarios run: the -D option, else the profile."""
        if self.options.allow_destructive is not None:
            return self.options.allow_destructive
        return self.profile.allow_destructive

    @property
    def allow_mutation(self) -> bool:
        """Whether @mutates scenarios run: the -D option, else the profile."""
        if self.options.allow_mutation is not None:
            return self.options.allow_mutation
        return self.profile.allow_mutation

    def properties(self) -> dict[str, str]:
        """The facts of the run for environment.properties (URLs without credentials, versions, models)."""
        props = {
            "profile": self.profile.name, "profile.file": str(self.profile.path.relative_to(REPO_ROOT))
            if self.profile.path.is_relative_to(REPO_ROOT) else str(self.profile.path),
            "stack.mode": self.profile.mode, "gateway.url": self.profile.gateway.base_url,
            "models": ", ".join(f"{m} -> {s}" for m, s in sorted(self.profile.routes.items())),
            "run.id": self.run_id,
            "capabilities": ", ".join(sorted(self.profile.capabilities.declared)),
            "allow_mutation": "yes" if self.allow_mutation else "no",
        }
        if self.profile.vector is not None:
            props["vector.url"] = self.profile.vector.url
            props["vector.collection"] = self.profile.vector.collection
        for name, service in sorted(self.profile.services.items()):
            props[f"service.{name}.url"] = service.url
        props.update(self.target.properties())
        props["prometheus.url"] = self.prometheus_url or f"none: {self.prometheus_unavailable()}"
        relaxed = self.thresholds.relaxed()
        props["targets.relaxed"] = ", ".join(sorted({g.key for g in relaxed})) or "none"
        return props

    def stop_part(self, part: str) -> None:
        """Stop one part of the target (for @destructive scenarios)."""
        self.target.stop_part(part)

    def start_part(self, part: str) -> None:
        """Start one part of the target again and wait until it is ready."""
        self.target.start_part(part)

    def kill_part(self, part: str) -> None:
        """Crash one part of the target (SIGKILL), as an outage would."""
        self.target.kill_part(part)

    @property
    def prometheus_url(self) -> str:
        """The Prometheus the monitoring scenarios query ("" when none is configured or running)."""
        return self.profile.monitoring.prometheus_url

    def prometheus_unavailable(self) -> str:
        """Why the monitoring scenarios cannot run against this target ("" when they can)."""
        if self.target.prometheus_missing():
            return self.target.prometheus_missing()
        if not self.prometheus_url:
            return (f"profile {self.profile.name!r} configures no Prometheus: set [monitoring] prometheus_url "
                    "(or -D monitoring.prometheus_url=URL)")
        return ""

    @functools.cached_property
    def prometheus(self) -> Any:
        """The Prometheus HTTP API client (citadel_acceptance.checks.monitoring.prometheus), created at first use."""
        from citadel_acceptance.checks.monitoring.prometheus import PrometheusProbe

        return PrometheusProbe(self.prometheus_url, timeout_s=self.profile.monitoring.timeout_s)

    def can_control_parts(self) -> bool:
        """Whether the target lets the suite stop and start its parts (only the embedded stack does)."""
        return self.target.can_control()

    def remove_test_data(self, interrupted: bool = False) -> list[str]:
        """Delete what this run created; returns what could not be removed (after an interrupt, a second later)."""
        return self.run_data.remove_all(settle_s=3.0 if interrupted else 0.0) if self.run_data else []

    def close(self) -> None:
        """Close the clients and stop the stack if this run started it (and was not asked to keep it)."""
        self.gateway.close()
        if "prometheus" in self.__dict__:
            self.prometheus.close()
        self.target.close()


def open_session(userdata: Mapping[str, Any]) -> RunSession:
    """Load the profile, start or attach to the target, check the secrets, and create the clients."""
    options = RunOptions.from_userdata(userdata)
    profile = load_profile(options.profile, options.overrides)
    redactor = Redactor()
    target: Target = DeploymentTarget()
    t0 = time.monotonic()
    if profile.embedded:
        from citadel_acceptance.target.embedded import EmbeddedTarget

        target, profile = EmbeddedTarget.open(profile, options.stack_dir, options.faults, options.keep_stack)
    try:
        profile.check_secrets()
        for var in profile.secret_vars.values():
            redactor.add(os.environ.get(var))
        for secret in target.secrets:
            redactor.add(secret)
        _check_reachable(profile)
    except (SuiteConfigError, EnvironmentNotReady):
        target.close()  # a stack this run started does not outlive a run that cannot begin
        raise
    gateway = GatewayClient(profile.gateway, profile.secret("api_key"), profile.served_ids)
    run_data = RunData(new_run_id(), DataApi(gateway), redactor)
    return RunSession(options=options, profile=profile, thresholds=Thresholds.from_profile(profile, target.calibration), redactor=redactor,
                      gateway=gateway, target=target,
                      startup_s=round(time.monotonic() - t0, 2), run_data=run_data)


def _check_reachable(profile: Profile) -> None:
    """The gateway answers at all (any HTTP status); otherwise nothing can be learnt about the product."""
    url = f"{profile.gateway.base_url}{profile.gateway.health_path}"
    try:
        httpx.get(url, timeout=10.0, verify=profile.gateway.verify_tls)
    except httpx.HTTPError as exc:
        raise EnvironmentNotReady(
            f"the gateway of profile {profile.name!r} is unreachable at {url} ({type(exc).__name__}: {exc}). "
            "Check gateway.base_url in the profile (or -D gateway.base_url=URL) and that the deployment runs."
        ) from exc
