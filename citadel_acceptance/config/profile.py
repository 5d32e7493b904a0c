"""Target profiles: where the deployment is, which secrets it needs, and the numbers it is held to.

A profile is a TOML file in `profiles/` (read with tomllib), loaded once by `load_profile` into a frozen,
typed tree: one dataclass per section (see the sibling modules), checked against their fields and type
hints, so that a mistake stops the run when the profile is loaded, naming the key and the file.
`extends = "other"` starts from another profile; a profile that names its own `services` or `models`
names all of them (those two tables are replaced, every other table is merged key by key). Single
values can be changed from the command line as dotted paths (`-D gateway.base_url=https://host:8000`).
"""
from __future__ import annotations

import copy
import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from citadel_acceptance.config.capabilities import CapabilitySettings
from citadel_acceptance.config.convert import (default_of, entry_hint, frozen_map, from_text, is_table, section,
                                               strip_optional)
from citadel_acceptance.config.database import DatabaseSettings
from citadel_acceptance.config.endpoints import (EmbeddingsSettings, GatewaySettings, HealthSettings, ModelSettings,
                                                 ServiceSettings, VectorSettings)
from citadel_acceptance.config.gpu import GpuSettings
from citadel_acceptance.config.load import LoadSettings, ProbeSettings
from citadel_acceptance.config.monitoring import MonitoringSettings
from citadel_acceptance.config.operations import OperationsSettings
from citadel_acceptance.config.security import SecuritySettings
from citadel_acceptance.config.soak import SoakSettings
from citadel_acceptance.config.stack import ProfileInfo, StackSettings
from citadel_acceptance.config.thresholds import Threshold, ThresholdOverride, threshold_problems
from citadel_acceptance.errors import SuiteConfigError

__all__ = ["PROFILES_DIR", "GatewaySettings", "Profile", "VectorSettings", "available_profiles", "load_profile"]

PROFILES_DIR = Path(__file__).resolve().parents[2] / "profiles"
REPLACED_TABLES = ("services", "models")
NAMED_TABLES = ("thresholds", "overrides")  # their entries' names contain dots
REQUIRED_SECRETS = ("api_key",)


@dataclass(frozen=True)
class Profile:
    """A validated profile: one frozen, typed section per table of the file."""

    path: Path
    stack: StackSettings
    secret_vars: Mapping[str, str] = field(metadata={"key": "secrets"})  # secret name -> environment variable
    gateway: GatewaySettings
    services: Mapping[str, ServiceSettings]
    models: Mapping[str, ModelSettings]
    probe: ProbeSettings
    info: ProfileInfo = field(default_factory=ProfileInfo, metadata={"key": "profile"})
    capabilities: CapabilitySettings = field(default_factory=CapabilitySettings)
    extends: str = ""
    load: LoadSettings = field(default_factory=LoadSettings)
    embeddings: EmbeddingsSettings = field(default_factory=EmbeddingsSettings)
    vector: VectorSettings | None = None
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    operations: OperationsSettings = field(default_factory=OperationsSettings)
    security: SecuritySettings = field(default_factory=SecuritySettings)
    gpu: GpuSettings = field(default_factory=GpuSettings)
    soak: SoakSettings = field(default_factory=SoakSettings)
    monitoring: MonitoringSettings = field(default_factory=MonitoringSettings)
    health: HealthSettings = field(default_factory=HealthSettings)
    thresholds: Mapping[str, Threshold] = field(default_factory=frozen_map)
    overrides: Mapping[str, ThresholdOverride] = field(default_factory=frozen_map)

    @property
    def name(self) -> str:
        """The profile's name (`[profile] name`, else the file's name)."""
        return self.info.name or self.path.stem

    @property
    def description(self) -> str:
        """What the profile describes."""
        return self.info.description

    @property
    def mode(self) -> str:
        """embedded (the suite starts or attaches to the reference stack) or external."""
        return self.stack.mode

    @property
    def allow_destructive(self) -> bool:
        """Whether the profile lets @destructive scenarios run."""
        return self.stack.allow_destructive

    @property
    def embedded(self) -> bool:
        """True when the suite starts (or attaches to) the embedded reference stack."""
        return self.mode == "embedded"

    def provides(self, capability: str) -> bool:
        """Whether the profile declares that the deployment provides `capability` (config/capabilities.py)."""
        return capability in self.capabilities.declared

    @property
    def allow_mutation(self) -> bool:
        """Whether the profile lets @mutates scenarios write to or delete from the deployment's data."""
        return self.stack.allow_mutation

    @property
    def embedding_model(self) -> str | None:
        """The model id clients send to the embeddings endpoint (None when the profile names none)."""
        return self.embeddings.model or None

    @property
    def routes(self) -> dict[str, str]:
        """Model id -> the name of the service that serves it."""
        return {model: route.service for model, route in self.models.items()}

    def served_id(self, model: str) -> str:
        """The id the deployment serves `model` (a plan id) as: its `[models.ID] alias`, else the id itself."""
        route = self.models.get(model)
        return route.alias if route is not None and route.alias else model

    @property
    def served_ids(self) -> dict[str, str]:
        """Plan model id -> the id the deployment serves it as (`served_id`)."""
        return {model: self.served_id(model) for model in self.models}

    def service_key(self, service: str, environ: Mapping[str, str] | None = None) -> str:
        """The key a model service itself asks for (the secret its `api_key_secret` names), "" where it names none."""
        secret = self.services[service].api_key_secret if service in self.services else ""
        if not secret:
            return ""
        var = self.secret_vars.get(secret)
        if var is None:
            raise SuiteConfigError(f"service {service!r} takes its key from the secret {secret!r}, which [secrets] of "
                                   f"profile {self.name!r} does not define")
        value = (os.environ if environ is None else environ).get(var, "")
        if not value:
            raise SuiteConfigError(f"the key of service {service!r} is read from the environment variable {var} "
                                   f"([secrets] {secret}), which is not set: export it and run again")
        return value

    def secret(self, name: str, environ: Mapping[str, str] | None = None) -> str:
        """The value of a secret, read from the environment variable the profile names."""
        env = os.environ if environ is None else environ
        var = self.secret_vars.get(name)
        if var is None:
            raise SuiteConfigError(
                f"profile {self.name!r} names no environment variable for the secret {name!r}: "
                f"add `{name} = \"VARIABLE\"` under [secrets] in {self.path}"
            )
        value = env.get(var, "")
        if not value:
            raise SuiteConfigError(
                f"secret {name!r} is missing: profile {self.name!r} reads it from the environment "
                f"variable {var}, which is not set. Export it (export {var}=...) and run again."
            )
        return value

    def check_secrets(self, environ: Mapping[str, str] | None = None) -> None:
        """Stop the run before the first scenario when a secret the profile names is not set."""
        missing = []
        env = os.environ if environ is None else environ
        for name, var in sorted(self.secret_vars.items()):
            if not env.get(var):
                missing.append(f"{name} (environment variable {var})")
        if missing:
            raise SuiteConfigError(
                f"profile {self.name!r} needs secrets that are not set: {', '.join(missing)}. "
                "Export each variable and run again; the suite never reads secrets from files."
            )

    def with_endpoints(self, gateway_url: str, service_urls: Mapping[str, str], vector_url: str = "",
                       gateway_log: str = "", prometheus_url: str = "", tls_url: str = "",
                       ca_file: str = "") -> Profile:
        """The same profile pointed at a running stack (the embedded stack fills in its ports and paths)."""
        gateway = dataclasses.replace(self.gateway, base_url=gateway_url)
        if tls_url:
            gateway = dataclasses.replace(gateway, tls_url=tls_url, ca_file=ca_file)
        services = dict(self.services)
        for name, url in service_urls.items():
            services[name] = dataclasses.replace(services.get(name, ServiceSettings()), url=url)
        pointed = dataclasses.replace(
            self, gateway=gateway, services=frozen_map(services),
            operations=dataclasses.replace(self.operations, gateway_log=gateway_log) if gateway_log else self.operations,
            vector=dataclasses.replace(self.vector, url=vector_url) if vector_url and self.vector else self.vector,
            monitoring=(dataclasses.replace(self.monitoring, prometheus_url=prometheus_url) if prometheus_url
                        else self.monitoring),
        )
        _check(pointed)
        return pointed


def available_profiles(directory: Path = PROFILES_DIR) -> list[str]:
    """Names of the profiles in `directory`."""
    return sorted(p.stem for p in directory.glob("*.toml"))


def load_profile(
    name_or_path: str,
    overrides: Mapping[str, str] | None = None,
    directory: Path = PROFILES_DIR,
) -> Profile:
    """Load, merge, override and validate a profile; every problem is a SuiteConfigError."""
    path = _locate(name_or_path, directory)
    raw = _read_with_parents(path, directory, seen=())
    for dotted, text in (overrides or {}).items():
        _apply_override(raw, dotted, text, path)
    profile = section(Profile, raw, "", path, given={"path": path})
    profile = _fill_in(profile)
    _check(profile)
    return profile


def _locate(name_or_path: str, directory: Path) -> Path:
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" and candidate.exists():
        return candidate.resolve()
    path = directory / f"{name_or_path}.toml"
    if not path.exists():
        known = ", ".join(available_profiles(directory)) or "none"
        raise SuiteConfigError(
            f"profile {name_or_path!r} does not exist (looked for {path}). "
            f"Known profiles: {known}. Choose one with -D profile=NAME or give a path to a .toml file."
        )
    return path


def _read_with_parents(path: Path, directory: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    if path in seen:
        raise SuiteConfigError(f"profile {path} extends itself through {' -> '.join(map(str, seen))}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SuiteConfigError(f"profile {path} is not valid TOML: {exc}. Fix the file and run again.") from exc
    parent_name = data.get("extends")
    if parent_name is None:
        return data
    parent = _read_with_parents(_locate(parent_name, directory), directory, seen + (path,))
    return _merge(parent, data)


def _merge(base: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in child.items():
        if key in REPLACED_TABLES or not (isinstance(value, dict) and isinstance(merged.get(key), dict)):
            merged[key] = copy.deepcopy(value)
        else:
            merged[key] = _merge(merged[key], value)
    return merged


def _apply_override(raw: dict[str, Any], dotted: str, text: str, path: Path) -> None:
    """Set one value from `-D section.key=value`, typed by the field it sets.

    A value of a section may be set even where the profile leaves it to its default; an entry of a
    table of names (a model, a service, a threshold) must exist in the profile already.
    """
    parts = _split_dotted(dotted)
    node: dict[str, Any] = raw
    hint: Any = Profile
    for part in parts[:-1]:
        inner = entry_hint(hint, part)
        named = not dataclasses.is_dataclass(strip_optional(hint))
        if inner is None or not is_table(inner) or (named and part not in node) or not isinstance(node.get(part, {}), dict):
            renamed = " ([targets] is now [thresholds])" if part == "targets" else ""
            raise SuiteConfigError(
                f"-D {dotted}: profile {path.stem!r} has no table {part!r}{renamed}. "
                "Only existing values can be overridden; edit a copy of the profile to add new ones."
            )
        node, hint = node.setdefault(part, {}), inner
    leaf = parts[-1]
    leaf_hint = entry_hint(hint, leaf)
    named = not dataclasses.is_dataclass(strip_optional(hint))
    if leaf_hint is None or is_table(leaf_hint) or (named and leaf not in node):
        raise SuiteConfigError(
            f"-D {dotted}: profile {path.stem!r} has no value {dotted!r}. "
            "Check the spelling against the profile file."
        )
    node[leaf] = from_text(text, leaf_hint, dotted, node.get(leaf, default_of(hint, leaf)))


def _split_dotted(dotted: str) -> list[str]:
    """Split `thresholds.latency.response_ms.value` knowing that threshold names contain dots."""
    head, _, rest = dotted.partition(".")
    if head in NAMED_TABLES and rest:
        name, _, tail = rest.rpartition(".")
        return [head, name, tail] if name else [head, rest]
    return dotted.split(".")


def _fill_in(profile: Profile) -> Profile:
    """Defaults taken from another section: the load's prompt is the probe's, the soak's model the first one."""
    load, soak = profile.load, profile.soak
    if not load.prompt:
        load = dataclasses.replace(load, prompt=profile.probe.prompt)
    if not soak.model and profile.models:
        soak = dataclasses.replace(soak, model=sorted(profile.models)[0])
    return dataclasses.replace(profile, load=load, soak=soak)


def _check(profile: Profile) -> None:
    """What the sections' types cannot say: relations between sections."""
    path = profile.path
    problems = []
    if profile.mode == "external" and not profile.gateway.base_url.startswith(("http://", "https://")):
        problems.append(
            f"gateway.base_url must be an http(s) URL for an external deployment, not {profile.gateway.base_url!r}; "
            "set it in the profile or with -D gateway.base_url=URL")
    service = profile.embeddings.service
    if service and service not in profile.services:
        problems.append(f"embeddings.service {service!r} is not one of [services]")
    if not profile.models:
        problems.append("[models] names no model; add [models.ID] service = \"NAME\"")
    for model, route in profile.models.items():
        if route.service not in profile.services:
            problems.append(f"model {model!r} is routed to service {route.service!r}, which [services] does not define")
    problems += [f"services.{name}.api_key_secret names {s.api_key_secret!r}, which [secrets] does not define"
                 for name, s in profile.services.items() if s.api_key_secret and s.api_key_secret not in profile.secret_vars]
    served = [profile.served_id(model) for model in profile.models]
    problems += [f"[models] serve {sorted({s for s in served if served.count(s) > 1})} under two ids: aliases must differ"
                 ] if len(set(served)) < len(served) else []
    problems += threshold_problems(profile.thresholds, profile.overrides)
    problems += profile.capabilities.problems()
    problems += [f"[secrets] must name the variable for {name!r}" for name in REQUIRED_SECRETS
                 if name not in profile.secret_vars]
    if problems:
        raise SuiteConfigError(f"profile {path}: {problems[0]}")
