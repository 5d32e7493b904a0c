"""One collection: a qdrant-edge shard in its own directory, its settings, its locks and its optimizer.

Layout: ``<dir>/settings.json`` (Qdrant's ``CollectionConfig`` as asked) and ``<dir>/shard/`` (the engine's).
Reads (search, scroll, count, retrieve, info) share the collection and run at the same time; writes take
turns with each other and with the optimizer, but not with reads; replacing the shard (new settings) or
closing it waits until the collection is alone. Locks are always taken in one order: ``_updates``, then
``_lock``.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Callable, TypeVar

import qdrant_edge as qe
from qdrant_client.http import models

from . import settings
from .errors import QdrantError, collection_not_found, wrong_input
from .optimizer import Optimizer
from .rwlock import ReadWriteLock

T = TypeVar("T")

SETTINGS_FILE = "settings.json"
SHARD_DIR = "shard"


class Collection:
    """A collection of the stand-in, over one ``EdgeShard``."""

    def __init__(self, name: str, directory: Path, config: models.CollectionConfig, shard: qe.EdgeShard,
                 degrade_fraction: float = 0.0) -> None:
        self.name = name
        self.directory = directory
        self.config = config  # as asked (and persisted); the engine gets `effective`
        self.degrade_fraction = degrade_fraction
        self._shard = shard
        self._lock = ReadWriteLock()
        self._updates = threading.Lock()
        self._closed = False
        self.optimizer = Optimizer(name, self._optimize)

    # -- life ------------------------------------------------------------------------------------------

    @classmethod
    def create(cls, name: str, directory: Path, config: models.CollectionConfig,
               degrade_fraction: float = 0.0) -> Collection:
        """A new, empty collection in `directory` (which must not exist yet)."""
        directory.mkdir(parents=True)
        try:
            shard = engine_call(lambda: qe.EdgeShard.create(
                str(directory / SHARD_DIR), settings.engine_config(settings.degraded(config, degrade_fraction))))
        except Exception:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        (directory / SETTINGS_FILE).write_text(config.model_dump_json(), encoding="utf-8")
        return cls(name, directory, config, shard, degrade_fraction)

    @classmethod
    def load(cls, name: str, directory: Path, degrade_fraction: float = 0.0) -> Collection:
        """A collection stored earlier in `directory`; optimizations it missed are due at once."""
        config = models.CollectionConfig.model_validate_json((directory / SETTINGS_FILE).read_text(encoding="utf-8"))
        shard = qe.EdgeShard.load(str(directory / SHARD_DIR),
                                  settings.engine_config(settings.degraded(config, degrade_fraction)))
        collection = cls(name, directory, config, shard, degrade_fraction)
        collection.optimizer.signal()
        return collection

    def close(self) -> None:
        """Stop the optimizer and close the shard (its data stays on disk)."""
        self.optimizer.stop()
        with self._updates, self._lock.writing():
            self._closed = True
            self._shard.close()

    def drop(self) -> None:
        """Close the shard and delete its files."""
        self.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    # -- settings --------------------------------------------------------------------------------------

    @property
    def effective(self) -> models.CollectionConfig:
        """The settings the engine works with (the asked ones, unless a fault weakens the index)."""
        return settings.degraded(self.config, self.degrade_fraction)

    def reconfigure(self, update: models.UpdateCollection) -> None:
        """Apply ``PATCH /collections/{c}``: the shard is reopened with the new settings, then optimized."""
        config = settings.updated(self.config, update)
        with self._updates, self._lock.writing():
            self._require_open()
            path = str(self.directory / SHARD_DIR)
            self._shard.close()
            try:
                self._shard = engine_call(lambda: qe.EdgeShard.load(
                    path, settings.engine_config(settings.degraded(config, self.degrade_fraction))))
            except QdrantError:
                self._shard = qe.EdgeShard.load(path, None)  # the settings it had
                raise
            self.config = config
            (self.directory / SETTINGS_FILE).write_text(config.model_dump_json(), encoding="utf-8")
        self.optimizer.signal()

    # -- engine access ---------------------------------------------------------------------------------

    def read(self, operation: Callable[[qe.EdgeShard], T]) -> T:
        """Run a read; other reads may run at the same time."""
        with self._lock.reading():
            self._require_open()
            return engine_call(lambda: operation(self._shard))

    def write(self, operation: qe.UpdateOperation, may_index: bool = False, may_vacuum: bool = False) -> None:
        """Apply one update (writes take turns), then signal the optimizer when it made an optimization due."""
        with self._updates, self._lock.reading():
            self._require_open()
            engine_call(lambda: self._shard.update(operation))
            due = (may_index and self._indexing_due()) or (may_vacuum and self._vacuum_possible())
        if due:
            self.optimizer.signal()

    def status(self) -> models.CollectionStatus:
        """Red after a failed optimization, yellow while one is due or running, else green."""
        if self.optimizer.error:
            return models.CollectionStatus.RED
        return models.CollectionStatus.YELLOW if self.optimizer.busy else models.CollectionStatus.GREEN

    def _optimize(self) -> None:
        with self._updates, self._lock.reading():
            if not self._closed:
                self._shard.optimize()

    def _require_open(self) -> None:
        if self._closed:  # deleted while this request was on its way
            raise collection_not_found(self.name)

    def _indexing_due(self) -> bool:
        """Whether the vectors not in an HNSW index yet reach the indexing threshold (0: indexing disabled).

        Qdrant compares each segment's vector data with the threshold; new points gather in the one
        segment that takes writes, so the unindexed points of the collection stand for that segment.
        """
        threshold_kb = self.config.optimizer_config.indexing_threshold
        if not threshold_kb:
            return False
        info = self._shard.info()
        per_point = settings.dense_vector_count(self.config)
        unindexed = info.points_count - info.indexed_vectors_count // max(per_point, 1)
        return unindexed * settings.dense_bytes_per_point(self.config) >= threshold_kb * 1024

    def _vacuum_possible(self) -> bool:
        """Whether a deletion may leave enough deleted vectors for the vacuum optimizer to run."""
        minimum = self.config.optimizer_config.vacuum_min_vector_number or 0
        return self._shard.info().points_count >= minimum


def engine_call(operation: Callable[[], T]) -> T:
    """Run an engine call, turning its refusals (plain exceptions with Qdrant's wording) into 400 Wrong input."""
    try:
        return operation()
    except QdrantError:
        raise
    except Exception as exc:
        message = str(exc) or type(exc).__name__
        raise wrong_input(message.removeprefix("Wrong input: ")) from exc


def stored_collections(root: Path) -> dict[str, Path]:
    """The collections stored under `root` (a directory per collection, with its settings file)."""
    if not root.is_dir():
        return {}
    return {child.name: child for child in sorted(root.iterdir()) if (child / SETTINGS_FILE).is_file()}

