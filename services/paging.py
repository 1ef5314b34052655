"""Keyset pagination by id, for one parent or many at once (one windowed query per batch).

Cursors are opaque base64 strings; ids only move one way, so a cursor stays valid while rows
are added or removed around it.
"""

from __future__ import annotations

import base64
import binascii
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from services.errors import BadUserInput

T = TypeVar("T")
DEFAULT_PAGE = 20
MAX_PAGE = 100
# The arguments that size a page: what a query's static cost multiplies lists by.
PAGE_SIZE_ARGUMENTS = ("first", "last")
MAX_ROW_ID = 2**63 - 1  # a BIGINT; a cursor past it names no row and no driver can bind it


def encode_cursor(row_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{row_id}".encode()).decode()


def decode_cursor(cursor: str, field_name: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
        prefix, _, value = raw.partition(":")
        if prefix != "id" or not (value.isascii() and value.isdigit()) or len(value) > 19:
            raise ValueError(raw)
        row_id = int(value)
        if row_id > MAX_ROW_ID:
            raise ValueError(raw)
        return row_id
    except (ValueError, binascii.Error, UnicodeError) as e:
        raise BadUserInput("Invalid cursor", field=field_name) from e


@dataclass(frozen=True, slots=True)
class PageArgs:
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None

    def validated(self) -> PageArgs:
        if self.first is not None and self.last is not None:
            raise BadUserInput("Pass either first or last, not both", field="last")
        for name, value in (("first", self.first), ("last", self.last)):
            if value is not None and not 0 <= value <= MAX_PAGE:
                raise BadUserInput(f"Must be between 0 and {MAX_PAGE}", field=name)
        if self.after is not None:
            decode_cursor(self.after, "after")
        if self.before is not None:
            decode_cursor(self.before, "before")
        return self

    @property
    def backward(self) -> bool:
        return self.last is not None or (self.before is not None and self.first is None)

    @property
    def limit(self) -> int:
        value = self.last if self.backward else self.first
        return DEFAULT_PAGE if value is None else value


@dataclass(slots=True)
class Page(Generic[T]):
    items: list[T] = field(default_factory=list)
    has_next: bool = False
    has_previous: bool = False
    ids: list[int] = field(default_factory=list)


async def paginate_many(
    session: AsyncSession,
    model: type[Any],
    parent_col: InstrumentedAttribute[Any] | None,
    parent_ids: Sequence[int],
    args: PageArgs,
    *,
    newest_first: bool = False,
    where: Sequence[ColumnElement[bool]] = (),
) -> dict[int, Page[Any]]:
    """One query for the pages of every parent (ROW_NUMBER per parent).

    With ``parent_col=None`` the whole filtered set is one page keyed ``0``.
    """
    id_col = model.id
    # "forward" in the list's natural order: ascending ids unless newest_first.
    ascending = newest_first == args.backward
    conditions: list[ColumnElement[bool]] = list(where)
    if parent_col is not None:
        conditions.append(parent_col.in_(list(parent_ids)))
    if args.after is not None:
        after = decode_cursor(args.after, "after")
        conditions.append(id_col < after if newest_first else id_col > after)
    if args.before is not None:
        before = decode_cursor(args.before, "before")
        conditions.append(id_col > before if newest_first else id_col < before)
    order = id_col.asc() if ascending else id_col.desc()
    limit = args.limit
    if parent_col is None or len(parent_ids) == 1:
        # One parent needs no window function (and builds a much cheaper statement).
        simple = select(model).where(*conditions).order_by(order).limit(limit + 1)
        rows = list((await session.scalars(simple)).all())
        return {parent_ids[0] if parent_ids else 0: _page(rows, limit, args)}
    rank = func.row_number().over(partition_by=parent_col, order_by=order).label("rank")
    inner = select(model, rank).where(*conditions).subquery()
    row = aliased(model, inner)
    stmt = select(row).where(inner.c.rank <= limit + 1).order_by(inner.c.rank)
    grouped: dict[int, list[Any]] = defaultdict(list)
    for obj in (await session.scalars(stmt)).all():
        grouped[getattr(obj, parent_col.key) if parent_col is not None else 0].append(obj)
    return {parent_id: _page(grouped.get(parent_id, []), limit, args) for parent_id in parent_ids}


def _page(rows: list[Any], limit: int, args: PageArgs) -> Page[Any]:
    more = len(rows) > limit
    rows = rows[:limit]
    if args.backward:
        rows.reverse()
    return Page(
        items=rows,
        has_next=more if not args.backward else args.before is not None,
        has_previous=more if args.backward else args.after is not None,
        ids=[r.id for r in rows],
    )
