"""Full-text search over memories, per engine: SQLite FTS5 (bm25), PostgreSQL (ts_rank).

Query text is whatever a person typed: it is reduced to plain words (letters and digits) before
it reaches either engine, and each FTS5 word is quoted, so quotes, ``NEAR``, ``*``, ``^``,
column filters and parentheses are only ever words or nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import TextClause, bindparam, text
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


def fts5_expression(terms: Sequence[str], *, every: bool = False) -> str:
    """Any of the terms (recall), or every one of them (a search box)."""
    # Terms are letters and digits only; quoting still makes NEAR/AND/OR/NOT plain words.
    return (" AND " if every else " OR ").join('"' + t.replace('"', '""') + '"' for t in terms)


def tsquery_expression(terms: Sequence[str], *, every: bool = False) -> str:
    return (" & " if every else " | ").join(terms)


# One round trip gathers every candidate: the best full-text matches (with their rank) and the
# person's most important and newest memories (rank NULL), nothing when memory is off.
_ENABLED = "EXISTS (SELECT 1 FROM companions AS c WHERE c.id = :companion_id AND c.memory_enabled)"
_MINE = "m.companion_id = :companion_id AND m.owner_id IN :owner_ids AND " + _ENABLED
_MATCHES = {
    "sqlite": "SELECT m.id AS id, bm25(memories_fts) AS rank FROM memories_fts"
    " JOIN memories AS m ON m.id = memories_fts.rowid"
    f" WHERE memories_fts MATCH :match AND {_MINE} ORDER BY rank LIMIT :match_limit",
    "postgresql": "SELECT m.id AS id, ts_rank(m.search_vector, q) AS rank"
    " FROM memories AS m, to_tsquery('english', :match) AS q"
    f" WHERE m.search_vector @@ q AND {_MINE} ORDER BY rank DESC LIMIT :match_limit",
}
_BACKGROUND = (
    "SELECT id, NULL AS rank FROM (SELECT m.id AS id FROM memories AS m WHERE {mine}"
    " ORDER BY m.{order} DESC LIMIT :background_limit) AS {name}"
)


def _candidates_sql(dialect: str, with_matches: bool) -> TextClause:
    parts = [f"SELECT id, rank FROM ({_MATCHES[dialect]}) AS matches"] if with_matches else []
    parts += [
        _BACKGROUND.format(mine=_MINE, order="importance", name="important"),
        _BACKGROUND.format(mine=_MINE, order="id", name="newest"),
    ]
    return text(" UNION ALL ".join(parts)).bindparams(bindparam("owner_ids", expanding=True))


_STATEMENTS = {
    (dialect, with_matches): _candidates_sql(dialect, with_matches)
    for dialect in _MATCHES
    for with_matches in (True, False)
}


async def candidates(
    session: AsyncSession,
    *,
    companion_id: int,
    owner_ids: Sequence[int],
    terms: Sequence[str],
    match_limit: int,
    background_limit: int,
) -> tuple[dict[int, float], set[int]]:
    """(full-text matches: memory id -> relevance in (0, 1], 1 for the best; every candidate id).
    Both empty when the companion's memory is off."""
    if not owner_ids:
        return {}, set()
    dialect = session.get_bind().dialect.name
    postgres = dialect == "postgresql"
    params: dict[str, object] = {
        "companion_id": companion_id,
        "owner_ids": list(owner_ids),
        "background_limit": background_limit,
    }
    if terms:
        params["match"] = tsquery_expression(terms) if postgres else fts5_expression(terms)
        params["match_limit"] = match_limit
    rows = (await session.execute(_STATEMENTS[(dialect, bool(terms))], params)).all()
    # bm25 is negative (lower is better); ts_rank positive (higher is better).
    scores = [
        (int(r[0]), float(r[1]) if postgres else -float(r[1])) for r in rows if r[1] is not None
    ]
    best = max((score for _, score in scores), default=0.0)
    relevance = {
        memory_id: (max(score, 0.0) / best if best > 0 else 1.0) for memory_id, score in scores
    }
    return relevance, {int(r[0]) for r in rows}
