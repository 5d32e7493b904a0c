"""A collection's settings as Qdrant reports them, and the engine configuration they become.

The settings are kept as Qdrant's own ``CollectionConfig`` (what ``GET /collections/{c}`` shows): built
from the creation request over Qdrant's defaults, changed by ``PATCH /collections/{c}``, persisted beside
the shard, and turned into a qdrant-edge ``EdgeConfig``. The engine honours the HNSW settings (``m``,
``ef_construct``, ``full_scan_threshold``, ``payload_m``, on disk), the optimizer settings (indexing
threshold, vacuum, segments), on-disk payload, quantization and the vectors' own parameters. WAL size,
shards, replication and write consistency mean nothing to one in-process shard: they are reported as asked.

The ``degrade_ann`` fault changes what the engine builds, not what searches return: see ``degraded``.
"""

from __future__ import annotations

from typing import Any

import qdrant_edge as qe
from qdrant_client.http import models

from . import convert
from .errors import wrong_input

# Qdrant's defaults (its config.yaml), for what a collection is created without.
DEFAULT_HNSW = models.HnswConfig(m=16, ef_construct=100, full_scan_threshold=10000, max_indexing_threads=0,
                                 on_disk=False)
DEFAULT_OPTIMIZERS = models.OptimizersConfig(deleted_threshold=0.2, vacuum_min_vector_number=1000,
                                             default_segment_number=0, indexing_threshold=10000,
                                             flush_interval_sec=5)
DEFAULT_WAL = models.WalConfig(wal_capacity_mb=32, wal_segments_ahead=0)

# The weakest graph the degrade_ann fault builds (ef_construct below 4 is refused by Qdrant).
MIN_DEGRADED_M, MIN_EF_CONSTRUCT = 1, 4


def from_request(request: models.CreateCollection) -> models.CollectionConfig:
    """The settings of a new collection: the request over Qdrant's defaults."""
    if request.vectors is None and not request.sparse_vectors:
        raise wrong_input("Collection must have at least one vector (`vectors` or `sparse_vectors`)")
    params = models.CollectionParams(
        vectors=request.vectors if request.vectors is not None else {},
        shard_number=_or(request.shard_number, 1), sharding_method=request.sharding_method,
        replication_factor=_or(request.replication_factor, 1),
        write_consistency_factor=_or(request.write_consistency_factor, 1),
        on_disk_payload=_or(request.on_disk_payload, True), sparse_vectors=request.sparse_vectors,
    )
    return models.CollectionConfig(
        params=params, hnsw_config=convert.merged(DEFAULT_HNSW, request.hnsw_config),
        optimizer_config=convert.merged(DEFAULT_OPTIMIZERS, request.optimizers_config),
        wal_config=convert.merged(DEFAULT_WAL, request.wal_config),
        quantization_config=request.quantization_config, strict_mode_config=_strict(request.strict_mode_config),
        metadata=request.metadata,
    )


def updated(config: models.CollectionConfig, update: models.UpdateCollection) -> models.CollectionConfig:
    """The settings after ``PATCH /collections/{c}`` (every part it names, merged over what was)."""
    params = config.params
    if update.vectors:
        params = params.model_copy(update={"vectors": _updated_vectors(params.vectors, update.vectors)})
    if update.params is not None:
        params = convert.merged(params, update.params)
    if update.sparse_vectors:
        params = params.model_copy(update={"sparse_vectors": {**(params.sparse_vectors or {}), **update.sparse_vectors}})
    changes: dict[str, Any] = {"params": params}
    if update.hnsw_config is not None:
        changes["hnsw_config"] = convert.merged(config.hnsw_config, update.hnsw_config)
    if update.optimizers_config is not None:
        changes["optimizer_config"] = convert.merged(config.optimizer_config, update.optimizers_config)
    if update.quantization_config is not None:
        disabled = isinstance(update.quantization_config, models.Disabled)
        changes["quantization_config"] = None if disabled else update.quantization_config
    if update.strict_mode_config is not None:
        changes["strict_mode_config"] = _strict(update.strict_mode_config)
    if update.metadata is not None:
        changes["metadata"] = {**(config.metadata or {}), **update.metadata}
    return config.model_copy(update=changes)


def _updated_vectors(vectors: Any, diffs: dict[str, models.VectorParamsDiff]) -> Any:
    named = vectors if isinstance(vectors, dict) else {convert.DEFAULT_VECTOR: vectors}
    unknown = sorted(set(diffs) - set(named))
    if unknown:
        raise wrong_input(f"Not existing vector name error: {', '.join(unknown)}")
    result = {}
    for name, params in named.items():
        diff = diffs.get(name)
        if diff is not None:
            update: dict[str, Any] = {}
            if diff.hnsw_config is not None:
                update["hnsw_config"] = (params.hnsw_config or models.HnswConfigDiff()).model_copy(
                    update=diff.hnsw_config.model_dump(exclude_none=True))
            if diff.quantization_config is not None:
                update["quantization_config"] = (None if isinstance(diff.quantization_config, models.Disabled)
                                                 else diff.quantization_config)
            if diff.on_disk is not None:
                update["on_disk"] = diff.on_disk
            params = params.model_copy(update=update)
        result[name] = params
    return result if isinstance(vectors, dict) else result[convert.DEFAULT_VECTOR]


def degraded(config: models.CollectionConfig, fraction: float) -> models.CollectionConfig:
    """The settings the engine gets under ``degrade_ann:FRACTION``: every HNSW graph built with its ``m`` and
    ``ef_construct`` cut by that fraction (``m`` at least 1, ``ef_construct`` at least 4). Unchanged at 0."""
    if not fraction:
        return config

    def weaker(hnsw: Any) -> Any:
        if hnsw is None:
            return None
        update = {}
        if hnsw.m is not None:
            update["m"] = max(MIN_DEGRADED_M, round(hnsw.m * (1 - fraction)))
        if hnsw.ef_construct is not None:
            update["ef_construct"] = max(MIN_EF_CONSTRUCT, round(hnsw.ef_construct * (1 - fraction)))
        return hnsw.model_copy(update=update)

    vectors = config.params.vectors
    if isinstance(vectors, dict):
        vectors = {name: p.model_copy(update={"hnsw_config": weaker(p.hnsw_config)}) for name, p in vectors.items()}
    else:
        vectors = vectors.model_copy(update={"hnsw_config": weaker(vectors.hnsw_config)})
    params = config.params.model_copy(update={"vectors": vectors})
    return config.model_copy(update={"hnsw_config": weaker(config.hnsw_config), "params": params})


def engine_config(config: models.CollectionConfig) -> qe.EdgeConfig:
    """The qdrant-edge configuration of a collection's shard."""
    vectors = config.params.vectors
    dense: Any
    if isinstance(vectors, dict):
        dense = {name: convert.vector_params(p, config.hnsw_config) for name, p in vectors.items()}
    else:
        dense = convert.vector_params(vectors, config.hnsw_config)
    sparse = {name: convert.sparse_params(p) for name, p in (config.params.sparse_vectors or {}).items()}
    return qe.EdgeConfig(vectors=dense or None, sparse_vectors=sparse or None,
                         on_disk_payload=config.params.on_disk_payload, hnsw_config=convert.hnsw(config.hnsw_config),
                         quantization_config=convert.quantization(config.quantization_config),
                         optimizers=convert.optimizers(config.optimizer_config))


def dense_bytes_per_point(config: models.CollectionConfig) -> int:
    """Bytes of dense vector data per point (what Qdrant's kilobyte thresholds measure)."""
    vectors = config.params.vectors
    named = vectors.values() if isinstance(vectors, dict) else [vectors]
    width = {models.Datatype.FLOAT16: 2, models.Datatype.UINT8: 1}
    return sum(p.size * width.get(p.datatype, 4) for p in named)


def dense_vector_count(config: models.CollectionConfig) -> int:
    """How many dense vectors each point has (``indexed_vectors_count`` counts them all)."""
    vectors = config.params.vectors
    return len(vectors) if isinstance(vectors, dict) else 1


def _strict(value: Any) -> models.StrictModeConfigOutput | None:
    return None if value is None else models.StrictModeConfigOutput.model_validate(value.model_dump(exclude_none=True))


def _or(value: Any, default: Any) -> Any:
    return default if value is None else value
