"""Full-text search over memories, per engine: SQLite FTS5 (bm25), PostgreSQL (ts_rank).

Query text is whatever a person typed: it is reduced to plain words (letters and digits) before
it reaches either engine, and each FTS5 word is quoted, so quotes, ``NEAR``, ``*``, ``^``,
column filters and parentheses are only ever words or nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

_WORD = re.compile(r"[^\W_]+")
MAX_TERMS = 24
# Words that match nearly every memory and say nothing about which one is meant.
STOPWORDS = frozenset(
    """a about all am an and any are as at be been but by can could did do does doing don for
    from had has have having he her hers him his how i if in into is it its just me more most
    my myself no nor not now of off on once only or our ours out over own please really s same
    she should so some such t than that the their them then there these they this those to too
    under until up very was we were what when where which while who whom why will with would
    you your yours yourself tell know remember said say""".split()
)


def search_terms(query: str) -> list[str]:
    """The searchable words of ``query``, lowercased, deduplicated, stopwords dropped."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(query.lower()):
        if word not in STOPWORDS and word not in seen:
            seen[word] = None
            if len(seen) == MAX_TERMS:
                break
    return list(seen)


def fts5_expression(terms: Sequence[str]) -> str:
    # Terms are letters and digits only; quoting still makes NEAR/AND/OR/NOT plain words.
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)


def tsquery_expression(terms: Sequence[str]) -> str:
    return " | ".join(terms)


def fts5_all_expression(terms: Sequence[str]) -> str:
    """Every term must match (a search box), where recall wants any of them."""
    return " AND ".join('"' + t.replace('"', '""') + '"' for t in terms)


def tsquery_all_expression(terms: Sequence[str]) -> str:
    return " & ".join(terms)


_SQLITE = text(
    "SELECT m.id, bm25(memories_fts) AS rank FROM memories_fts"
    " JOIN memories AS m ON m.id = memories_fts.rowid"
    " WHERE memories_fts MATCH :match AND m.companion_id = :companion_id"
    " AND m.owner_id IN :owner_ids ORDER BY rank LIMIT :limit"
).bindparams(bindparam("owner_ids", expanding=True))

_POSTGRES = text(
    "SELECT m.id, ts_rank(m.search_vector, q) AS rank"
    " FROM memories AS m, to_tsquery('english', :match) AS q"
    " WHERE m.search_vector @@ q AND m.companion_id = :companion_id"
    " AND m.owner_id IN :owner_ids ORDER BY rank DESC LIMIT :limit"
).bindparams(bindparam("owner_ids", expanding=True))


async def ranked_matches(
    session: AsyncSession,
    *,
    companion_id: int,
    owner_ids: Sequence[int],
    terms: Sequence[str],
    limit: int,
) -> dict[int, float]:
    """Best matches first: memory id -> relevance in (0, 1], 1 for the best match."""
    if not terms or not owner_ids:
        return {}
    postgres = session.get_bind().dialect.name == "postgresql"
    stmt = _POSTGRES if postgres else _SQLITE
    params = {
        "match": tsquery_expression(terms) if postgres else fts5_expression(terms),
        "companion_id": companion_id,
        "owner_ids": list(owner_ids),
        "limit": limit,
    }
    rows = (await session.execute(stmt, params)).all()
    # bm25 is negative (lower is better); ts_rank positive (higher is better).
    scores = [(int(r[0]), -float(r[1]) if not postgres else float(r[1])) for r in rows]
    best = max((s for _, s in scores), default=0.0)
    if best <= 0:
        return {memory_id: 1.0 for memory_id, _ in scores}
    return {memory_id: max(s, 0.0) / best for memory_id, s in scores}
