"""Data exports: a background job writes one zip (``data.json`` + ``audio/…``) to blob storage.

Jobs are plain asyncio tasks of this process, kept simple on purpose: a job lost to a restart
stays RUNNING in the database and the person asks again. One job per person runs at a time, so
repeated clicks cannot fill the disk. The download link is signed for ``url_ttl_s`` from when the
archive is ready and never re-signed after that: an old link cannot be revived.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import zipfile
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pipeline.storage.base import BlobStorage, public_url
from services import personal_data
from services.errors import NotFound
from store.base import utcnow
from store.models import DataExport, ExportStatus

log = logging.getLogger("holomate.privacy")


def audio_prefix(user_id: int) -> str:
    return f"users/{user_id}/audio"


def export_key(user_id: int, export_id: int) -> str:
    return f"users/{user_id}/exports/{export_id}.zip"


def build_archive(data: dict[str, Any], files: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(data, indent=2, ensure_ascii=False))
        for name, content in files:
            # Audio is already compressed or cheap to store as is; deflating it wastes CPU.
            archive.writestr(name, content, compress_type=zipfile.ZIP_STORED)
    return buffer.getvalue()


class DataExports:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        storage: BlobStorage,
        url_ttl_s: int,
        public_base_url: str = "",
    ) -> None:
        self._sessionmaker = sessionmaker
        self._storage = storage
        self._ttl_s = url_ttl_s
        self._base = public_base_url.rstrip("/")
        self._tasks: dict[int, tuple[int, asyncio.Task[None]]] = {}  # export id -> (user, task)

    async def start(self, user_id: int) -> DataExport:
        """Start a job, or return the one already under way for this person."""
        async with self._sessionmaker() as session:
            running = await session.scalar(
                select(DataExport)
                .where(
                    DataExport.user_id == user_id,
                    DataExport.status.in_([ExportStatus.PENDING, ExportStatus.RUNNING]),
                )
                .order_by(DataExport.id.desc())
            )
            if running is not None and running.id in self._tasks:
                return running
            row = DataExport(user_id=user_id, status=ExportStatus.PENDING)
            session.add(row)
            await session.commit()
        task = asyncio.create_task(self._run(row.id, user_id), name=f"data-export:{row.id}")
        self._tasks[row.id] = (user_id, task)
        task.add_done_callback(lambda _: self._tasks.pop(row.id, None))
        return row

    async def get(self, user_id: int, export_id: int) -> DataExport:
        async with self._sessionmaker() as session:
            row = await session.get(DataExport, export_id)
        if row is None or row.user_id != user_id:
            raise NotFound("Data export")
        return row

    def url_for(self, row: DataExport, now: datetime | None = None) -> str | None:
        now = now or utcnow()
        if row.status != ExportStatus.READY or row.blob_key is None or row.expires_at is None:
            return None
        remaining = int((row.expires_at - now).total_seconds())
        if remaining <= 0:
            return None
        return public_url(self._base, self._storage.signed_url(row.blob_key, remaining))

    async def cancel_for(self, user_id: int) -> None:
        """Stop the person's running jobs (before erasing them, so none writes afterwards)."""
        await self._cancel([task for owner, task in self._tasks.values() if owner == user_id])

    async def aclose(self) -> None:
        await self._cancel([task for _, task in self._tasks.values()])

    @staticmethod
    async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, export_id: int, user_id: int) -> None:
        try:
            await self._set(export_id, status=ExportStatus.RUNNING)
            archive = await self._archive(user_id)
            key = export_key(user_id, export_id)
            await self._storage.put(key, archive, "application/zip")
            now = utcnow()
            await self._set(
                export_id,
                status=ExportStatus.READY,
                blob_key=key,
                size_bytes=len(archive),
                completed_at=now,
                expires_at=now + timedelta(seconds=self._ttl_s),
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("data export %s failed", export_id)
            await self._set(export_id, status=ExportStatus.FAILED, completed_at=utcnow())

    async def _archive(self, user_id: int) -> bytes:
        async with self._sessionmaker() as session:
            data = await personal_data.collect(session, user_id, utcnow())
        prefix = audio_prefix(user_id) + "/"
        files = []
        for key in await self._storage.list_prefix(prefix):
            files.append(("audio/" + key.removeprefix(prefix), await self._storage.get(key)))
        data["audio_files"] = [name for name, _ in files]
        # Companion pictures (from character cards): users/<id>/companions/<c>/picture.<ext>.
        pictures = []
        for key in await self._storage.list_prefix(f"users/{user_id}/companions"):
            *_, companion, name = key.split("/")
            if name.startswith("picture."):
                pictures.append((f"pictures/{companion}.{name.split('.', 1)[1]}", key))
        for name, key in pictures:
            files.append((name, await self._storage.get(key)))
        data["picture_files"] = [name for name, _ in pictures]
        return await asyncio.to_thread(build_archive, data, files)

    async def _set(self, export_id: int, **values: Any) -> None:
        async with self._sessionmaker() as session:
            row = await session.get(DataExport, export_id)
            if row is None:  # the account was erased meanwhile
                return
            for name, value in values.items():
                setattr(row, name, value)
            await session.commit()
