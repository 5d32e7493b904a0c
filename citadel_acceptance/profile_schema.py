"""The keys a profile may hold, with their types: anything else is a mistake worth stopping for."""
from __future__ import annotations

from typing import Any

# A leaf is a type (or tuple of types); a dict is a table with fixed keys; ("map", X) is a table
# whose keys are names chosen by the profile (models, services, targets) and whose values are X.
TARGET: dict[str, Any] = {
    "compare": str,
    "unit": str,
    "source": str,
    "value": (int, float),
    "per_model": ("map", (int, float)),
}
OVERRIDE: dict[str, Any] = {
    "value": (int, float),
    "per_model": ("map", (int, float)),
    "reason": str,
}
SCHEMA: dict[str, Any] = {
    "extends": str,
    "profile": {"name": str, "description": str},
    "stack": {
        "mode": str,
        "allow_destructive": bool,
        "faults": list,
        "model_package": str,
        "model_file": str,
        "upstream_model": str,
        "n_ctx": int,
        "n_threads": int,
    },
    "secrets": ("map", str),
    "gateway": {
        "base_url": str,
        "models_path": str,
        "planned_models_path": str,
        "chat_path": str,
        "health_path": str,
        "health_models_path": str,
        "metrics_path": str,
        "embeddings_path": str,
        "documents_path": str,
        "retrieval_path": str,
        "admin_keys_path": str,
        "lifecycle_path": str,
        "timeout_s": (int, float),
        "verify_tls": bool,
    },
    "services": ("map", {"url": str, "model": str}),
    "models": ("map", {"service": str}),
    "probe": {"prompt": str, "max_tokens": int},
    "load": {"window_s": (int, float), "warmup_s": (int, float), "max_tokens": int, "prompt": str,
             "normal_rps": (int, float), "arrivals": str, "seed": int},
    "embeddings": {"model": str, "service": str},
    "vector": {"url": str, "collection": str, "vector_size": int, "distance": str},
    "database": {
        "retention_days": int,
        "expected_tables": list,
        "expected_indexes": list,
        "expected_constraints": list,
        "big_tables": list,
        "critical_queries": ("map", str),
    },
    "gpu": {
        "source": str,
        "gateway_path": str,
        "prometheus_url": str,
        "prometheus_selector": str,
        "load_s": (int, float),
        "load_rps": (int, float),
    },
    "soak": {
        "duration_s": (int, float),
        "rate_rps": (int, float),
        "interval_s": (int, float),
        "window_s": (int, float),
        "warmup_s": (int, float),
        "checkpoint_every_s": (int, float),
        "plot_every_s": (int, float),
        "progress_every_s": (int, float),
        "model": str,
        "max_tokens": int,
        "prompt": str,
        "checkpoint_dir": str,
        "run_id": str,
        "memory_source": str,
        "memory_metric": str,
        "restart_source": str,
    },
    "operations": {"backup_command": str, "restore_command": str, "gateway_log": str},
    "targets": ("map", TARGET),
    "overrides": ("map", OVERRIDE),
}
MODES = ("embedded", "external")
COMPARISONS = ("<", "<=", ">", ">=", "==")
REQUIRED_SECRETS = ("api_key",)
