"""Target profiles: where the deployment is, which secrets it needs, and the numbers it is held to.

A profile is a TOML file in `profiles/` (read with tomllib). `extends = "other"` starts from another
profile; a profile that names its own `services` or `models` names all of them (those two tables
are replaced, every other table is merged key by key). Single values can be changed from the
command line as dotted paths (`-D gateway.base_url=https://host:8000`).
"""
from __future__ import annotations

import copy
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from citadel_acceptance.errors import SuiteConfigError
from citadel_acceptance.config.schema import COMPARISONS, MODES, REQUIRED_SECRETS, SCHEMA

PROFILES_DIR = Path(__file__).resolve().parents[2] / "profiles"
REPLACED_TABLES = ("services", "models")


@dataclass(frozen=True)
class GatewaySettings:
    """How to reach the gateway and which paths it serves."""

    base_url: str
    models_path: str
    planned_models_path: str
    chat_path: str
    health_path: str
    health_models_path: str
    metrics_path: str
    timeout_s: float
    verify_tls: bool
    embeddings_path: str = "/v1/embeddings"
    documents_path: str = "/v1/documents"
    retrieval_path: str = "/v1/retrieval"
    admin_keys_path: str = "/admin/keys"
    lifecycle_path: str = "/admin/lifecycle/run"


@dataclass(frozen=True)
class VectorSettings:
    """The vector store (Qdrant) the documents live in."""

    url: str
    collection: str
    vector_size: int
    distance: str


@dataclass(frozen=True)
class Profile:
    """A validated profile. `raw` keeps the merged table for targets and less common settings."""

    name: str
    description: str
    path: Path
    mode: str
    allow_destructive: bool
    gateway: GatewaySettings
    services: dict[str, str]  # service name -> base URL
    models: dict[str, str]  # model id -> service name
    secret_vars: dict[str, str]  # secret name -> environment variable
    raw: dict[str, Any] = field(repr=False)
    vector: VectorSettings | None = None
    embedding_model: str | None = None

    @property
    def database(self) -> dict[str, Any]:
        """The `[database]` table (expected objects, critical queries, retention)."""
        return self.raw.get("database", {})

    @property
    def embedded(self) -> bool:
        """True when the suite starts (or attaches to) the embedded reference stack."""
        return self.mode == "embedded"

    def stack_setting(self, key: str, default: Any = None) -> Any:
        """A value of the `[stack]` table."""
        return self.raw.get("stack", {}).get(key, default)

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
        raw = copy.deepcopy(self.raw)
        raw["gateway"]["base_url"] = gateway_url
        if tls_url:
            raw["gateway"]["tls_url"], raw["gateway"]["ca_file"] = tls_url, ca_file
        if gateway_log and "operations" in raw:
            raw["operations"]["gateway_log"] = gateway_log
        if vector_url and "vector" in raw:
            raw["vector"]["url"] = vector_url
        if prometheus_url and "monitoring" in raw:
            raw["monitoring"]["prometheus_url"] = prometheus_url
        for name, url in service_urls.items():
            raw.setdefault("services", {}).setdefault(name, {})["url"] = url
        return _build(raw, self.path)


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
    _validate(raw, SCHEMA, "", path)
    return _build(raw, path)


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
    """Set one value from `-D section.key=value`, typed like the value it replaces."""
    parts = _split_dotted(dotted)
    node: Any = raw
    for part in parts[:-1]:
        if not isinstance(node, dict) or part not in node:
            raise SuiteConfigError(
                f"-D {dotted}: profile {path.stem!r} has no table {part!r}. "
                "Only existing values can be overridden; edit a copy of the profile to add new ones."
            )
        node = node[part]
    leaf = parts[-1]
    if not isinstance(node, dict) or leaf not in node:
        raise SuiteConfigError(
            f"-D {dotted}: profile {path.stem!r} has no value {dotted!r}. "
            "Check the spelling against the profile file."
        )
    node[leaf] = _coerce(text, node[leaf], dotted)


def _split_dotted(dotted: str) -> list[str]:
    """Split `targets.latency.response_ms.value` knowing that target names contain dots."""
    head, _, rest = dotted.partition(".")
    if head in ("targets", "overrides") and rest:
        name, _, tail = rest.rpartition(".")
        return [head, name, tail] if name else [head, rest]
    return dotted.split(".")


def _coerce(text: str, current: Any, dotted: str) -> Any:
    try:
        if isinstance(current, bool):
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        if isinstance(current, int):
            return int(text)
        if isinstance(current, float):
            return float(text)
        if isinstance(current, list):
            return [item.strip() for item in text.split(",") if item.strip()]
    except ValueError as exc:
        raise SuiteConfigError(
            f"-D {dotted}={text!r}: expected a {type(current).__name__} like {current!r}"
        ) from exc
    return text


def _validate(value: Any, schema: Any, where: str, path: Path) -> None:
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            raise SuiteConfigError(f"profile {path}: {where or 'the file'} must be a table")
        for key, item in value.items():
            here = f"{where}.{key}" if where else key
            if key not in schema:
                known = ", ".join(sorted(schema))
                raise SuiteConfigError(
                    f"profile {path}: unknown key {here!r}. Known keys here: {known}. "
                    "Fix the spelling or remove it."
                )
            _validate(item, schema[key], here, path)
        return
    if isinstance(schema, tuple) and len(schema) == 2 and schema[0] == "map":
        if not isinstance(value, dict):
            raise SuiteConfigError(f"profile {path}: {where} must be a table")
        for key, item in value.items():
            _validate(item, schema[1], f"{where}.{key}", path)
        return
    if isinstance(value, bool) and schema in ((int, float), int):
        raise SuiteConfigError(f"profile {path}: {where} must be a number, not {value!r}")
    if not isinstance(value, schema):
        expected = " or ".join(t.__name__ for t in schema) if isinstance(schema, tuple) else schema.__name__
        raise SuiteConfigError(f"profile {path}: {where} must be {expected}, not {value!r}")


def _build(raw: dict[str, Any], path: Path) -> Profile:
    def need(table: str, key: str) -> Any:
        try:
            return raw[table][key]
        except KeyError:
            raise SuiteConfigError(f"profile {path}: [{table}] {key} is required") from None

    mode = need("stack", "mode")
    if mode not in MODES:
        raise SuiteConfigError(f"profile {path}: stack.mode must be one of {', '.join(MODES)}, not {mode!r}")
    gw = raw.get("gateway", {})
    base_url = gw.get("base_url", "")
    if mode == "external" and not base_url.startswith(("http://", "https://")):
        raise SuiteConfigError(
            f"profile {path}: gateway.base_url must be an http(s) URL for an external deployment, "
            f"not {base_url!r}; set it in the profile or with -D gateway.base_url=URL"
        )
    gateway = GatewaySettings(
        base_url=base_url.rstrip("/"),
        models_path=gw.get("models_path", "/v1/models"),
        planned_models_path=gw.get("planned_models_path", "/models"),
        chat_path=gw.get("chat_path", "/v1/chat/completions"),
        health_path=gw.get("health_path", "/health"),
        health_models_path=gw.get("health_models_path", "/health/models"),
        metrics_path=gw.get("metrics_path", "/metrics"),
        timeout_s=float(gw.get("timeout_s", 60.0)),
        verify_tls=bool(gw.get("verify_tls", True)),
        **{k: gw[k] for k in ("embeddings_path", "documents_path", "retrieval_path", "admin_keys_path",
                              "lifecycle_path") if k in gw},
    )
    vector_raw = raw.get("vector")
    vector = VectorSettings(url=vector_raw.get("url", "").rstrip("/"), collection=vector_raw.get("collection", ""),
                            vector_size=int(vector_raw.get("vector_size", 0)),
                            distance=vector_raw.get("distance", "Cosine")) if vector_raw else None
    embeddings = raw.get("embeddings", {})
    if embeddings.get("service") and embeddings["service"] not in raw.get("services", {}):
        raise SuiteConfigError(f"profile {path}: embeddings.service {embeddings['service']!r} is not one of [services]")
    services = {name: table.get("url", "").rstrip("/") for name, table in raw.get("services", {}).items()}
    models = {model: table["service"] for model, table in raw.get("models", {}).items() if "service" in table}
    if not models:
        raise SuiteConfigError(f"profile {path}: [models] names no model; add [models.ID] service = \"NAME\"")
    for model, service in models.items():
        if service not in services:
            raise SuiteConfigError(
                f"profile {path}: model {model!r} is routed to service {service!r}, which [services] does not define"
            )
    for name, target in raw.get("targets", {}).items():
        compare = target.get("compare")
        if compare not in COMPARISONS:
            raise SuiteConfigError(f"profile {path}: targets.{name}.compare must be one of {COMPARISONS}, not {compare!r}")
        if "value" not in target and "per_model" not in target:
            raise SuiteConfigError(f"profile {path}: targets.{name} needs `value` or `per_model`")
    for name, override in raw.get("overrides", {}).items():
        if name not in raw.get("targets", {}):
            raise SuiteConfigError(f"profile {path}: overrides.{name} overrides a target the profile does not define")
        if not override.get("reason"):
            raise SuiteConfigError(f"profile {path}: overrides.{name} needs a `reason`: a relaxed target must say why")
    secret_vars = dict(raw.get("secrets", {}))
    for name in REQUIRED_SECRETS:
        if name not in secret_vars:
            raise SuiteConfigError(f"profile {path}: [secrets] must name the variable for {name!r}")
    return Profile(
        name=raw.get("profile", {}).get("name", path.stem),
        description=raw.get("profile", {}).get("description", ""),
        path=path,
        mode=mode,
        allow_destructive=bool(raw["stack"].get("allow_destructive", False)),
        gateway=gateway,
        services=services,
        models=models,
        secret_vars=secret_vars,
        raw=raw,
        vector=vector,
        embedding_model=embeddings.get("model"),
    )
