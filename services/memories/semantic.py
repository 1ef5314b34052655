"""Semantic recall: cosine similarity of the message to each of the people's memories.

Exact, over the people's own rows (at most thousands; no vector database). Their vectors are
read once and kept per process, normalised; a cheap stamp (how many embedded rows, the newest
id and edit) is compared on each recall, and when it moved only the rows added or edited since
are read, so a turn does not move megabytes of blobs. With numpy installed (the local model's
set-up installs it) the products are one matrix-vector multiply; without it, plain Python
(fine for hundreds of memories).
"""

from __future__ import annotations

import heapq
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pipeline.embeddings.base import Embedder, EmbeddingError, from_bytes, normalised
from store.models import Memory

try:  # optional: numpy comes with the local model's requirements
    import numpy
except ImportError:  # pragma: no cover - exercised where numpy is absent
    numpy = None  # type: ignore[assignment]

log = logging.getLogger(__name__)
CACHED_PEOPLE = 64  # (companion, people, model) matrices kept per process, least recent out
EDITS_REREAD_S = 30.0  # another process's edits of vectors reach this cache within this
EDIT_MARGIN = timedelta(seconds=60)


@dataclass(slots=True)
class _Vectors:
    """The unit vectors of some people's memories of a companion, as of ``stamp``."""

    stamp: tuple[Any, ...] = ()
    read_at: float = 0.0  # time.monotonic() of the last full or edits read
    edits_since: datetime = datetime.min.replace(tzinfo=UTC)  # rows edited after: read again
    newest_id: int = 0  # rows with a larger id are new
    rows: dict[int, Any] = field(default_factory=dict)  # id -> unit vector
    ids: list[int] = field(default_factory=list)
    matrix: Any = None  # numpy (n, d) array of the rows in ``ids`` order, or a list of lists


_cache: OrderedDict[tuple[int, tuple[int, ...], str], _Vectors] = OrderedDict()


async def similarities(
    session: AsyncSession,
    embedder: Embedder,
    companion_id: int,
    owners: Sequence[int],
    query: str,
    *,
    also: Iterable[int] = (),
    limit: int = 40,
) -> dict[int, float]:
    """Memory id -> cosine similarity to ``query`` (clipped at 0) for the ``limit`` closest
    memories and those in ``also`` (the full-text matches, to blend); {} if embedding fails."""
    try:
        [vector] = await embedder.embed([query])
    except EmbeddingError as e:
        log.warning("memory recall without embeddings: %s", e)
        return {}
    vectors = await _vectors(session, companion_id, tuple(owners), embedder.model)
    if not vectors.ids:
        return {}
    unit = normalised(vector)
    wanted = {i for i in also if i in vectors.rows}
    if numpy is not None:
        query_row = numpy.asarray(unit, dtype=numpy.float32)
        if vectors.matrix is None or query_row.shape[0] != vectors.matrix.shape[1]:
            return {}
        scores = vectors.matrix @ query_row
        k = min(limit, len(vectors.ids))
        best = numpy.argpartition(-scores, k - 1)[:k].tolist()
        picked = {vectors.ids[i]: float(scores[i]) for i in best}
        for memory_id in wanted - picked.keys():
            picked[memory_id] = float(numpy.dot(vectors.rows[memory_id], query_row))
    else:
        everything = {
            memory_id: math.fsum(a * b for a, b in zip(row, unit, strict=False))
            for memory_id, row in zip(vectors.ids, vectors.matrix, strict=True)
        }
        closest = heapq.nlargest(limit, everything, key=everything.__getitem__)
        picked = {i: everything[i] for i in [*closest, *wanted]}
    return {i: max(score, 0.0) for i, score in picked.items()}


async def _vectors(
    session: AsyncSession, companion_id: int, owners: tuple[int, ...], model: str
) -> _Vectors:
    """The cached vectors, brought up to date when memories were added or forgotten (read from
    the (owner, companion, id) index alone: on SQLite every column after a vector's blob sits
    in overflow pages, so reading updated_at for 10,000 rows costs 50 ms). Edits made in this
    process drop the entry (``forget_cached``); those of other processes are picked up within
    ``EDITS_REREAD_S``, and until then only change a score, never a memory's text."""
    people = (Memory.companion_id == companion_id, Memory.owner_id.in_(owners))
    stamp = tuple(
        (await session.execute(select(func.count(), func.max(Memory.id)).where(*people))).one()
    )
    key = (companion_id, owners, model)
    cached = _cache.pop(key, None) or _Vectors()
    _cache[key] = cached  # most recent last
    while len(_cache) > CACHED_PEOPLE:
        _cache.popitem(last=False)
    now = time.monotonic()
    recheck_edits = now - cached.read_at >= EDITS_REREAD_S
    if cached.stamp == stamp and not recheck_edits:
        return cached
    changed = select(Memory.id, Memory.embedding, Memory.embedding_model).where(*people)
    if cached.read_at:  # an update: new rows, forgotten rows, and edits when it is time
        present = set((await session.scalars(select(Memory.id).where(*people))).all())
        for gone in set(cached.rows) - present:
            del cached.rows[gone]
        newer = Memory.id > cached.newest_id
        edited = Memory.updated_at >= cached.edits_since
        changed = changed.where(newer | edited if recheck_edits else newer)
    wall_clock = datetime.now(UTC)
    for memory_id, blob, blob_model in (await session.execute(changed)).all():
        cached.newest_id = max(cached.newest_id, int(memory_id))
        if blob and blob_model == model:
            cached.rows[int(memory_id)] = _unit(blob)
        else:  # its text was edited (no vector yet) or another model made it
            cached.rows.pop(int(memory_id), None)
    cached.stamp = stamp
    if recheck_edits or not cached.read_at:
        cached.read_at = now
        # Writers stamp updated_at with their own clock; a margin covers skew and transactions
        # still open while this read ran.
        cached.edits_since = wall_clock - EDIT_MARGIN
    cached.ids = list(cached.rows)
    vectors = [cached.rows[i] for i in cached.ids]
    if numpy is not None:
        same_size = len({len(v) for v in vectors}) == 1
        cached.matrix = numpy.vstack(vectors) if same_size else None
        if cached.matrix is None:
            cached.ids = []
    else:
        cached.matrix = vectors
    return cached


def forget_cached(companion_id: int) -> None:
    """Vectors of this companion's memories changed here (an edit, a new embedding)."""
    for key in [k for k in _cache if k[0] == companion_id]:
        del _cache[key]


def _unit(blob: bytes) -> Any:
    if numpy is not None:
        vector = numpy.frombuffer(blob, dtype="<f4").astype(numpy.float32)
        norm = float(numpy.linalg.norm(vector))
        return vector / norm if norm > 0 else vector
    return normalised(from_bytes(blob))
