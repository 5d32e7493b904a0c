"""Where GPU facts come from, chosen by the profile's `[gpu] source` (see citadel_acceptance.config.gpu).

- `nvml`: the suite runs on the GPU host and reads NVML itself (`citadel_acceptance.checks.gpu.nvml`).
- `gateway`: the gateway's `GET /health/gpu` answers a `GpuSnapshot` JSON (see `snapshot.py`).
- `prometheus`: dcgm-exporter's metrics, queried from Prometheus's HTTP API (`/api/v1/query`).
- `none`: the deployment has no GPU the suite may read; GPU scenarios are skipped with that reason.
"""
from __future__ import annotations

import time
from collections import defaultdict
from typing import TYPE_CHECKING, Any, Callable

import httpx

from citadel_acceptance.checks.gpu.nvml import read_nvml
from citadel_acceptance.checks.gpu.snapshot import GpuDevice, GpuReadError, GpuSnapshot, GpuUnavailable, throttle_names
from citadel_acceptance.config.gpu import GpuSettings

if TYPE_CHECKING:
    from citadel_acceptance.config.profile import Profile

MIB = 2**20
# dcgm-exporter's default field names -> how each becomes a GpuDevice field (memory in MiB).
DCGM_FIELDS: dict[str, str] = {
    "DCGM_FI_DEV_GPU_UTIL": "utilization_percent",
    "DCGM_FI_DEV_GPU_TEMP": "temperature_c",
    "DCGM_FI_DEV_SLOWDOWN_TEMP": "slowdown_temperature_c",
    "DCGM_FI_DEV_POWER_USAGE": "power_w",
    "DCGM_FI_DEV_POWER_MGMT_LIMIT": "power_limit_w",
    "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL": "ecc_uncorrected_volatile",
    "DCGM_FI_DEV_ECC_DBE_AGG_TOTAL": "ecc_uncorrected_aggregate",
    "DCGM_FI_DEV_RETIRED_DBE": "retired_pages_double_bit",
    "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS": "remapped_rows_uncorrectable",
    "DCGM_FI_DEV_ROW_REMAP_FAILURE": "remapping_failed",
    "DCGM_FI_DEV_CLOCK_THROTTLE_REASONS": "throttle_reasons",
    "DCGM_FI_DEV_FB_USED": "memory_used_mib",
    "DCGM_FI_DEV_FB_FREE": "memory_free_mib",
    "DCGM_FI_DEV_FB_RESERVED": "memory_reserved_mib",
}
INTEGER_FIELDS = {"ecc_uncorrected_volatile", "ecc_uncorrected_aggregate", "retired_pages_double_bit",
                  "remapped_rows_uncorrectable"}


def from_gateway(base_url: str, path: str, verify: Any = True, timeout_s: float = 10.0) -> GpuSnapshot:
    """The gateway's `GET /health/gpu` (no credentials), parsed as a snapshot."""
    url = f"{base_url}{path}"
    try:
        response = httpx.get(url, timeout=timeout_s, verify=verify)
    except httpx.HTTPError as exc:
        raise GpuReadError(f"GET {url} failed: {type(exc).__name__}: {exc}") from exc
    if response.status_code != 200:
        raise GpuReadError(f"GET {url} answered HTTP {response.status_code}: {response.text[:200]}")
    try:
        return parse_gateway(response.json(), url)
    except ValueError as exc:
        raise GpuReadError(f"GET {url} did not answer a GPU report: {exc}") from exc


def parse_gateway(body: Any, where: str = "/health/gpu") -> GpuSnapshot:
    """A `/health/gpu` answer; an answer with `error` (the gateway's own NVML failure) is a GpuReadError."""
    if isinstance(body, dict) and body.get("error") and not body.get("devices"):
        raise GpuReadError(f"{where}: {body['error']}")
    if not isinstance(body, dict):
        raise ValueError("expected a JSON object")
    snapshot = GpuSnapshot.from_dict(body, source="gateway")
    return GpuSnapshot(**{**snapshot.__dict__, "read_at": snapshot.read_at or time.time()})


def from_prometheus(prometheus_url: str, selector: str = "", verify: Any = True, timeout_s: float = 10.0) -> GpuSnapshot:
    """dcgm-exporter's metrics as Prometheus holds them now (one instant query)."""
    if not prometheus_url:
        raise GpuReadError("gpu.source is prometheus but gpu.prometheus_url is not set in the profile")
    matchers = f'__name__=~"DCGM_FI_.*"{"," + selector if selector else ""}'
    url = f"{prometheus_url}/api/v1/query"
    try:
        response = httpx.get(url, params={"query": f"{{{matchers}}}"}, timeout=timeout_s, verify=verify)
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise GpuReadError(f"GET {url} failed: {type(exc).__name__}: {exc}") from exc
    if response.status_code != 200 or body.get("status") != "success":
        raise GpuReadError(f"GET {url} answered HTTP {response.status_code}: {str(body)[:200]}")
    return parse_dcgm(body)


def parse_dcgm(body: dict[str, Any]) -> GpuSnapshot:
    """Prometheus's answer to an instant query over dcgm-exporter's series, one device per `gpu` label."""
    result = body.get("data", {}).get("result", [])
    per_gpu: dict[int, dict[str, Any]] = defaultdict(dict)
    driver = ""
    for series in result:
        labels, value = series.get("metric", {}), float(series["value"][1])
        field = DCGM_FIELDS.get(labels.get("__name__", ""))
        if field is None or "gpu" not in labels:
            continue
        device = per_gpu[int(labels["gpu"])]
        device["name"] = labels.get("modelName", device.get("name", "unknown"))
        device["uuid"] = labels.get("UUID", device.get("uuid", ""))
        driver = labels.get("DCGM_FI_DRIVER_VERSION", driver)
        device[field] = value
    if not per_gpu:
        raise GpuReadError("Prometheus holds no dcgm-exporter series (DCGM_FI_*) for this deployment")
    devices = tuple(_dcgm_device(index, fields) for index, fields in sorted(per_gpu.items()))
    return GpuSnapshot(source="prometheus (dcgm-exporter)", devices=devices, driver_version=driver, read_at=time.time())


def _dcgm_device(index: int, fields: dict[str, Any]) -> GpuDevice:
    used, free = fields.pop("memory_used_mib", None), fields.pop("memory_free_mib", None)
    reserved = fields.pop("memory_reserved_mib", 0.0) or 0.0
    values: dict[str, Any] = {k: v for k, v in fields.items()}
    if used is not None:
        values["memory_used_bytes"] = int(used * MIB)
        if free is not None:
            values["memory_total_bytes"] = int((used + free + reserved) * MIB)
    if "throttle_reasons" in values:
        values["throttle_reasons"] = tuple(throttle_names(int(values["throttle_reasons"])))
    if "remapping_failed" in values:
        values["remapping_failed"] = bool(values["remapping_failed"])
    for name in INTEGER_FIELDS & set(values):
        values[name] = int(values[name])
    return GpuDevice(index=index, **values)


class GpuReader:
    """Reads the GPUs from the profile's source; remembers why they cannot be read (asked once per run)."""

    def __init__(self, settings: GpuSettings, gateway_url: str = "", verify: Any = True,
                 nvml_reader: Callable[[], GpuSnapshot] = read_nvml) -> None:
        self.settings = settings
        self.gateway_url = gateway_url
        self.verify = verify
        self._nvml_reader = nvml_reader
        self._unavailable: str | None = None
        self._first: GpuSnapshot | None = None
        self.read_error = ""  # the declared source's failure at the first read, if it failed

    @classmethod
    def for_profile(cls, profile: Profile) -> GpuReader:
        """The reader a loaded profile asks for (its `[gpu]` section)."""
        return cls(profile.gpu, profile.gateway.base_url, profile.gateway.verify_tls)

    def read(self) -> GpuSnapshot:
        """A fresh snapshot; GpuUnavailable with the source's reason when there is none."""
        source = self.settings.source
        if source == "none":
            raise GpuUnavailable("the profile says this deployment has no GPU the suite may read (gpu.source = none)")
        if source == "nvml":
            return self._nvml_reader()
        if source == "gateway":
            return from_gateway(self.gateway_url, self.settings.gateway_path, self.verify, self.settings.timeout_s)
        return from_prometheus(self.settings.prometheus_url, self.settings.prometheus_selector, self.verify,
                               self.settings.timeout_s)

    def unavailable_reason(self) -> str:
        """'' when GPUs can be read or the declared source failed to give them (a GpuReadError: the scenarios run and
        fail with it), else why there is no GPU this run may read (they are skipped); the first answer is kept."""
        if self._unavailable is None:
            try:
                self._first = self.read()
                self._unavailable = ""
            except GpuReadError as exc:
                self._unavailable, self.read_error = "", str(exc)
            except GpuUnavailable as exc:
                self._unavailable = str(exc)
        return self._unavailable

    def facts(self) -> dict[str, str]:
        """GPU facts for environment.properties (or the reason there are none)."""
        reason = self.unavailable_reason()
        if reason or self._first is None:
            return {"gpu.source": self.settings.source, "gpu.unavailable": reason or f"read error: {self.read_error}"}
        return self._first.facts()
