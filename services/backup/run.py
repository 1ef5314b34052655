"""Back up and restore the database and the blob storage (local folder or bucket prefix).

Backup order: the database snapshot first, then the blobs. A blob written meanwhile is simply
kept (an orphan file, harmless); a blob deleted meanwhile was deleted with its rows (erasure,
retention), so every blob the snapshot's rows name is in the backup. The backup is built in a
hidden sibling folder and renamed into place once its manifest is written: a folder with that
name is always whole.

A restore first checks every file against the manifest and that this release knows the
schema revision; only then does it replace the database and make the storage hold exactly the
backup's blobs (blobs made since are deleted). Servers must be stopped for a restore.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.storage.base import BlobStorage, content_type
from services.backup import archive
from services.backup.manifest import BLOBS, Manifest, describe, verified
from store import dump

PARALLEL_BLOBS = 8  # blobs copied at once (a bucket answers each request in milliseconds)


class BackupError(Exception):
    """A backup or restore that cannot be done as asked; nothing was changed."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where the server keeps its data, as its settings say."""

    database_url: str
    storage: BlobStorage
    storage_location: dict[str, Any]  # {"kind": "local", "path": ...} or {"kind": "s3", ...}


async def back_up(target: Target, destination: Path, app_version: str) -> Manifest:
    """Into the new folder ``destination``, or the one file ``destination`` if it ends .tar."""
    work = await asyncio.to_thread(_start, destination)
    try:
        manifest = await _write(target, work, app_version)
        finish = archive.pack if archive.is_archive(destination) else _finish
        await asyncio.to_thread(finish, work, destination)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return manifest


def check(source: Path) -> Manifest:
    """The manifest of the backup (folder or archive) at ``source`` if every file matches it."""
    with archive.unpacked(source) as folder:
        return verified(folder)


async def restore(target: Target, source: Path) -> Manifest:
    """Restore the backup (folder or archive) at ``source``."""
    with archive.unpacked(source) as folder:
        return await _restore(target, folder)


async def _restore(target: Target, folder: Path) -> Manifest:
    manifest = await asyncio.to_thread(verified, folder)
    revision = manifest.database.get("schema_revision")
    if revision is not None and not dump.known_revision(revision):
        raise BackupError(
            f"the backup's schema revision {revision} is newer than this release knows: "
            "restore it with the release that made it"
        )
    snapshot = dump.Snapshot(manifest.database["engine"], tuple(manifest.database["files"]))
    try:
        await asyncio.to_thread(dump.restore, target.database_url, folder, snapshot)
    except dump.DumpError as e:
        raise BackupError(str(e)) from e
    prefix = BLOBS + "/"
    wanted = [e.path.removeprefix(prefix) for e in manifest.files if e.path.startswith(prefix)]
    kept = set(wanted)
    stale = [key for key in await target.storage.list_prefix("") if key not in kept]
    await _each(stale, target.storage.delete_prefix)

    async def put(key: str) -> None:
        data = await asyncio.to_thread((folder / prefix / key).read_bytes)
        await target.storage.put(key, data, content_type(key))

    await _each(wanted, put)
    return manifest


async def _write(target: Target, work: Path, app_version: str) -> Manifest:
    revision = await dump.schema_revision(target.database_url)
    try:
        snapshot = await asyncio.to_thread(dump.dump, target.database_url, work)
    except dump.DumpError as e:
        raise BackupError(str(e)) from e
    storage = target.storage
    copied: list[str] = []

    async def copy(key: str) -> None:
        try:
            data = await storage.get(key)
        except KeyError:  # deleted since it was listed (with its rows, after the snapshot)
            return
        path = work / BLOBS / key
        await asyncio.to_thread(_write_file, path, data)
        copied.append(f"{BLOBS}/{key}")

    await _each(await storage.list_prefix(""), copy)
    paths = [*snapshot.files, *sorted(copied)]
    manifest = Manifest(
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        app_version=app_version,
        database={
            "engine": snapshot.engine,
            "schema_revision": revision,
            "files": list(snapshot.files),
        },
        storage={**target.storage_location, "blobs": len(copied)},
        files=[await asyncio.to_thread(describe, work, path) for path in paths],
    )
    manifest.write(work)
    return manifest


async def _each(keys: list[str], work: Any) -> None:
    """``await work(key)`` for every key, ``PARALLEL_BLOBS`` at a time."""
    gate = asyncio.Semaphore(PARALLEL_BLOBS)

    async def one(key: str) -> None:
        async with gate:
            await work(key)

    await asyncio.gather(*(one(key) for key in keys))


def _start(folder: Path) -> Path:
    """A hidden folder beside ``folder`` to build the backup in."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise BackupError(f"{folder} already exists: back up into a new folder or file")
    work = folder.with_name(f".{folder.name}.partial-{uuid.uuid4().hex[:8]}")
    work.mkdir(parents=True)
    return work


def _finish(work: Path, folder: Path) -> None:
    if folder.exists():
        folder.rmdir()  # empty, checked by _start
    work.rename(folder)


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
