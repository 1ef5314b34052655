"""The rows a person owns, oldest first: voice profiles, characters, devices."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

M = TypeVar("M")


async def list_owned(
    session: AsyncSession, model: type[M], owner_id: int, *where: ColumnElement[bool]
) -> Sequence[M]:
    table: Any = model
    rows = await session.scalars(
        select(model).where(table.owner_id == owner_id, *where).order_by(table.id)
    )
    return rows.all()
