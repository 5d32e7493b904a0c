"""Qdrant's REST models (``qdrant_client.http.models``) into qdrant-edge's types, and the engine's answers back.

Only what the stand-in serves is converted; anything else is refused with 400 Wrong input naming it,
never dropped silently (a filter condition left out would widen a search).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import qdrant_edge as qe
from qdrant_client.http import models

from .errors import QdrantError, wrong_input

DEFAULT_VECTOR = ""  # qdrant-edge's name of the unnamed vector


def unsupported(what: str) -> QdrantError:
    """400 for a valid Qdrant request the stand-in does not serve."""
    return wrong_input(f"{what} is not supported by the Citadel Qdrant stand-in")


# -- ids, vectors, payload selection -----------------------------------------------------------------------


def point_id(value: Any) -> int | str:
    """A REST point id as the engine takes it (an unsigned integer or a UUID as text)."""
    if isinstance(value, bool):
        raise wrong_input(f"point id {value!r} is neither an unsigned integer nor a UUID")
    if isinstance(value, int):
        if value < 0:
            raise wrong_input(f"point id {value} is negative")
        return value
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, str):
        try:
            return str(UUID(value))
        except ValueError as exc:
            raise wrong_input(f"Unable to parse UUID: {value}") from exc
    raise wrong_input(f"point id {value!r} is neither an unsigned integer nor a UUID")


def rest_id(value: Any) -> int | str:
    """An engine point id as Qdrant's REST API shows it."""
    return str(value) if isinstance(value, UUID) else value


def _vector(value: Any) -> Any:
    if isinstance(value, models.SparseVector):
        return qe.SparseVector(list(value.indices), list(value.values))
    if isinstance(value, list):
        return value
    raise unsupported(f"a vector of type {type(value).__name__} (inference objects included)")


def point_vector(value: Any) -> Any:
    """A point's vector(s): a list, a list of lists (multivector), or named vectors."""
    if isinstance(value, dict):
        return {name: _vector(vector) for name, vector in value.items()}
    return _vector(value)


def rest_vector(value: Any) -> Any:
    """The engine's vector(s) as REST shows them (sparse vectors as ``{"indices", "values"}``)."""
    if isinstance(value, dict):
        return {name: rest_vector(vector) for name, vector in value.items()}
    if isinstance(value, qe.SparseVector):
        return models.SparseVector(indices=list(value.indices), values=list(value.values))
    return value


def with_payload(value: Any, default: bool) -> Any:
    """``with_payload``: a flag, the fields to include, or an include/exclude selector."""
    if value is None:
        return default
    if isinstance(value, models.PayloadSelectorInclude):
        return qe.PayloadSelector.Include(list(value.include))
    if isinstance(value, models.PayloadSelectorExclude):
        return qe.PayloadSelector.Exclude(list(value.exclude))
    return value


def with_vector(value: Any, default: bool) -> Any:
    """``with_vector``: a flag or the names of the vectors to return."""
    return default if value is None else value


# -- points ------------------------------------------------------------------------------------------------


def points(operation: models.PointInsertOperations) -> list[qe.Point]:
    """The points of an upsert, given as a list or as a batch."""
    if isinstance(operation, models.PointsList):
        return [qe.Point(point_id(p.id), point_vector(p.vector), p.payload) for p in operation.points]
    batch = operation.batch
    count = len(batch.ids)
    if isinstance(batch.vectors, dict):
        per_point: list[Any] = [{name: _vector(vectors[i]) for name, vectors in batch.vectors.items()}
                                for i in range(count)]
    else:
        per_point = [_vector(vector) for vector in batch.vectors]
    payloads = batch.payloads or [None] * count
    if len(per_point) != count or len(payloads) != count:
        raise wrong_input("the batch's ids, vectors and payloads differ in length")
    return [qe.Point(point_id(i), v, p) for i, v, p in zip(batch.ids, per_point, payloads)]


def scored_point(point: qe.ScoredPoint) -> models.ScoredPoint:
    """One search hit."""
    return models.ScoredPoint(id=rest_id(point.id), version=point.version, score=point.score,
                              payload=point.payload, vector=rest_vector(point.vector), order_value=point.order_value)


def record(point: qe.Record) -> models.Record:
    """One stored point."""
    return models.Record(id=rest_id(point.id), payload=point.payload, vector=rest_vector(point.vector),
                         order_value=point.order_value)


# -- filters -----------------------------------------------------------------------------------------------


def _listed(value: Any) -> list[Any] | None:
    if value is None:
        return None
    return list(value) if isinstance(value, list) else [value]


def filter_(value: models.Filter | None) -> qe.Filter | None:
    """A REST filter, every condition converted (an unknown one is refused, never dropped)."""
    if value is None:
        return None
    min_should = None
    if value.min_should is not None:
        min_should = qe.MinShould([condition(c) for c in value.min_should.conditions], value.min_should.min_count)
    return qe.Filter(must=_conditions(value.must), should=_conditions(value.should),
                     must_not=_conditions(value.must_not), min_should=min_should)


def _conditions(value: Any) -> list[Any] | None:
    listed = _listed(value)
    return None if listed is None else [condition(c) for c in listed]


def condition(value: Any) -> Any:
    """One filter condition."""
    if isinstance(value, models.Filter):
        return filter_(value)
    if isinstance(value, models.FieldCondition):
        return _field_condition(value)
    if isinstance(value, models.IsEmptyCondition):
        return qe.IsEmptyCondition(value.is_empty.key)
    if isinstance(value, models.IsNullCondition):
        return qe.IsNullCondition(value.is_null.key)
    if isinstance(value, models.HasIdCondition):
        return qe.HasIdCondition({point_id(i) for i in value.has_id})
    if isinstance(value, models.HasVectorCondition):
        return qe.HasVectorCondition(value.has_vector)
    if isinstance(value, models.NestedCondition):
        return qe.NestedCondition(value.nested.key, filter_(value.nested.filter))
    raise unsupported(f"the filter condition {type(value).__name__}")


def _field_condition(value: models.FieldCondition) -> qe.FieldCondition:
    kwargs: dict[str, Any] = {}
    if value.match is not None:
        kwargs["match"] = _match(value.match)
    if value.range is not None:
        kwargs["range"] = _range(value.range)
    if value.values_count is not None:
        count = value.values_count
        kwargs["values_count"] = qe.ValuesCount(lt=count.lt, gt=count.gt, lte=count.lte, gte=count.gte)
    if value.geo_bounding_box is not None:
        box = value.geo_bounding_box
        kwargs["geo_bounding_box"] = qe.GeoBoundingBox(_geo_point(box.top_left), _geo_point(box.bottom_right))
    if value.geo_radius is not None:
        kwargs["geo_radius"] = qe.GeoRadius(_geo_point(value.geo_radius.center), value.geo_radius.radius)
    if value.geo_polygon is not None:
        polygon = value.geo_polygon
        kwargs["geo_polygon"] = qe.GeoPolygon([_geo_point(p) for p in polygon.exterior.points],
                                              [[_geo_point(p) for p in ring.points] for ring in polygon.interiors]
                                              if polygon.interiors else None)
    if value.is_empty is not None:
        kwargs["is_empty"] = value.is_empty
    if value.is_null is not None:
        kwargs["is_null"] = value.is_null
    if not kwargs:
        raise wrong_input(f"the condition on {value.key!r} has no match, range, geo or count part")
    return qe.FieldCondition(value.key, **kwargs)


def _match(value: Any) -> Any:
    if isinstance(value, models.MatchValue):
        return qe.MatchValue(value.value)
    if isinstance(value, models.MatchAny):
        return qe.MatchAny(list(value.any))
    if isinstance(value, models.MatchExcept):
        return qe.MatchExcept(list(value.except_))
    if isinstance(value, models.MatchText):
        return qe.MatchText(value.text)
    if isinstance(value, models.MatchTextAny):
        return qe.MatchTextAny(value.text_any)
    if isinstance(value, models.MatchPhrase):
        return qe.MatchPhrase(value.phrase)
    raise unsupported(f"the match {type(value).__name__}")


def _range(value: Any) -> Any:
    if isinstance(value, models.DatetimeRange):
        return qe.RangeDateTime(**{k: _iso(getattr(value, k)) for k in ("gte", "gt", "lte", "lt")})
    return qe.RangeFloat(gte=value.gte, gt=value.gt, lte=value.lte, lt=value.lt)


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat() if hasattr(value, "isoformat") else str(value)


def _geo_point(value: models.GeoPoint) -> qe.GeoPoint:
    return qe.GeoPoint(value.lon, value.lat)


# -- searches ----------------------------------------------------------------------------------------------


def search_params(value: models.SearchParams | None) -> qe.SearchParams | None:
    """Search parameters (``hnsw_ef``, ``exact``, quantization, ``indexed_only``)."""
    if value is None:
        return None
    if value.acorn is not None or value.idf is not None:
        raise unsupported("ACORN or IDF search parameters")
    quantization = None
    if value.quantization is not None:
        q = value.quantization
        quantization = qe.QuantizationSearchParams(ignore=bool(q.ignore), rescore=q.rescore, oversampling=q.oversampling)
    return qe.SearchParams(hnsw_ef=value.hnsw_ef, exact=bool(value.exact), quantization=quantization,
                           indexed_only=bool(value.indexed_only))


def nearest(vector: Any, using: str | None) -> qe.Query:
    """A nearest-neighbour query for a vector (dense, sparse or multi)."""
    return qe.Query.Nearest(_vector(vector), using=using or None)


def query_vector(query: Any) -> Any:
    """The vector (or point id) a query asks the nearest neighbours of; refuses every other kind of query."""
    if isinstance(query, models.NearestQuery):
        if query.mmr is not None:
            raise unsupported("MMR")
        return query.nearest
    if isinstance(query, (list, models.SparseVector, int, str, UUID)) and not isinstance(query, bool):
        return query
    raise unsupported(f"the query {type(query).__name__} (only nearest-vector queries are served)")


def order_by(value: Any) -> qe.OrderBy | None:
    """Scroll order: a payload key, or key with direction and start."""
    if value is None:
        return None
    if isinstance(value, str):
        return qe.OrderBy(value)
    direction = None if value.direction is None else getattr(qe.Direction, value.direction.value.capitalize())
    start = value.start_from
    if start is not None and hasattr(start, "isoformat"):
        start = start.isoformat()
    return qe.OrderBy(value.key, direction=direction, start_from=start)


# -- payload indexes ---------------------------------------------------------------------------------------

_INDEX_PARAMS = {
    "keyword": ("KeywordIndexParams", ("is_tenant", "on_disk", "enable_hnsw")),
    "integer": ("IntegerIndexParams", ("lookup", "range", "is_principal", "on_disk", "enable_hnsw")),
    "float": ("FloatIndexParams", ("is_principal", "on_disk", "enable_hnsw")),
    "geo": ("GeoIndexParams", ("on_disk", "enable_hnsw")),
    "bool": ("BoolIndexParams", ("on_disk", "enable_hnsw")),
    "datetime": ("DatetimeIndexParams", ("is_principal", "on_disk", "enable_hnsw")),
    "uuid": ("UuidIndexParams", ("is_tenant", "on_disk", "enable_hnsw")),
}


def index_schema(schema: Any) -> Any:
    """A payload index's schema: a type (``"keyword"``) or its parameters (``{"type": "keyword", ...}``)."""
    if isinstance(schema, models.PayloadSchemaType):
        return getattr(qe.PayloadSchemaType, schema.value.capitalize())
    kind = getattr(getattr(schema, "type", None), "value", None)
    if kind == "text":
        return _text_index(schema)
    if kind not in _INDEX_PARAMS:
        raise unsupported(f"a payload index of type {kind!r}")
    class_name, fields = _INDEX_PARAMS[kind]
    values = {field: getattr(schema, field, None) for field in fields}
    return getattr(qe, class_name)(**{k: v for k, v in values.items() if v is not None})


def _text_index(schema: models.TextIndexParams) -> qe.TextIndexParams:
    values: dict[str, Any] = {k: getattr(schema, k) for k in ("min_token_len", "max_token_len", "lowercase",
                                                             "ascii_folding", "phrase_matching", "on_disk",
                                                             "enable_hnsw") if getattr(schema, k, None) is not None}
    if schema.tokenizer is not None:
        values["tokenizer"] = getattr(qe.TokenizerType, schema.tokenizer.value.capitalize())
    if schema.stopwords is not None or schema.stemmer is not None or schema.scoring is not None:
        raise unsupported("stop words, stemmers or scoring in a text index")
    return qe.TextIndexParams(**values)


def payload_index_info(info: Any) -> models.PayloadIndexInfo:
    """The engine's description of one payload index (type, parameters, points indexed)."""
    kind = models.PayloadSchemaType(str(info.data_type).rsplit(".", 1)[-1].lower())
    return models.PayloadIndexInfo(data_type=kind, params=_rest_index_params(kind, info.params), points=info.points)


def _rest_index_params(kind: models.PayloadSchemaType, params: Any) -> Any:
    if params is None:
        return None
    rest_class = {"keyword": models.KeywordIndexParams, "integer": models.IntegerIndexParams,
                  "float": models.FloatIndexParams, "geo": models.GeoIndexParams, "text": models.TextIndexParams,
                  "bool": models.BoolIndexParams, "datetime": models.DatetimeIndexParams,
                  "uuid": models.UuidIndexParams}[kind.value]
    simple = (bool, int, float, str)
    values = {name: getattr(params, name) for name in rest_class.model_fields
              if name != "type" and isinstance(getattr(params, name, None), simple)}
    return rest_class(type=kind.value, **values)


# -- collection settings ------------------------------------------------------------------------------------


def distance(value: models.Distance) -> qe.Distance:
    """Cosine, Euclid, Dot or Manhattan."""
    return getattr(qe.Distance, value.value)


def hnsw(config: models.HnswConfig) -> qe.HnswIndexConfig:
    """A complete HNSW configuration."""
    return qe.HnswIndexConfig(m=config.m, ef_construct=config.ef_construct,
                              full_scan_threshold=config.full_scan_threshold,
                              max_indexing_threads=config.max_indexing_threads or 0, on_disk=config.on_disk,
                              payload_m=config.payload_m)


def optimizers(config: models.OptimizersConfig) -> qe.EdgeOptimizersConfig:
    """The optimizer settings the engine has (indexing threshold, vacuum, segments)."""
    return qe.EdgeOptimizersConfig(deleted_threshold=config.deleted_threshold,
                                   vacuum_min_vector_number=config.vacuum_min_vector_number,
                                   default_segment_number=config.default_segment_number,
                                   max_segment_size=config.max_segment_size,
                                   indexing_threshold=config.indexing_threshold,
                                   prevent_unoptimized=config.prevent_unoptimized)


def quantization(config: Any) -> Any:
    """Scalar, product or binary quantization (``None`` for none)."""
    if config is None:
        return None
    if isinstance(config, models.ScalarQuantization):
        scalar = config.scalar
        return qe.ScalarQuantizationConfig(type=qe.ScalarType.Int8, quantile=scalar.quantile,
                                           always_ram=scalar.always_ram)
    if isinstance(config, models.ProductQuantization):
        product = config.product
        return qe.ProductQuantizationConfig(compression=getattr(qe.CompressionRatio, product.compression.value.upper()),
                                            always_ram=product.always_ram)
    if isinstance(config, models.BinaryQuantization):
        if config.binary.encoding is not None or config.binary.query_encoding is not None:
            raise unsupported("binary quantization encodings")
        return qe.BinaryQuantizationConfig(always_ram=config.binary.always_ram)
    raise unsupported(f"the quantization {type(config).__name__}")


def vector_params(params: models.VectorParams, collection_hnsw: models.HnswConfig) -> qe.EdgeVectorParams:
    """One dense vector's parameters; its own HNSW settings (if any) over the collection's."""
    own_hnsw = merged(collection_hnsw, params.hnsw_config) if params.hnsw_config is not None else None
    multivector = None
    if params.multivector_config is not None:
        multivector = qe.MultiVectorConfig(qe.MultiVectorComparator.MaxSim)
    datatype = None
    if params.datatype is not None:
        datatype = getattr(qe.VectorStorageDatatype, params.datatype.value.capitalize())
    return qe.EdgeVectorParams(size=params.size, distance=distance(params.distance), on_disk=params.on_disk,
                               multivector_config=multivector, datatype=datatype,
                               quantization_config=quantization(params.quantization_config),
                               hnsw_config=hnsw(own_hnsw) if own_hnsw is not None else None)


def sparse_params(params: models.SparseVectorParams) -> qe.EdgeSparseVectorParams:
    """One sparse vector's parameters."""
    index = params.index
    modifier = qe.Modifier.Idf if params.modifier == models.Modifier.IDF else None
    return qe.EdgeSparseVectorParams(full_scan_threshold=index.full_scan_threshold if index else None,
                                     on_disk=index.on_disk if index else None, modifier=modifier)


def merged(base: Any, diff: Any) -> Any:
    """`base` (a complete settings model) with the fields `diff` sets (a ``...Diff`` model) replaced."""
    if diff is None:
        return base
    known = type(base).model_fields
    update = {k: v for k, v in diff.model_dump(exclude_none=True).items() if k in known}
    return type(base).model_validate({**base.model_dump(), **update})

