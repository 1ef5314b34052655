"""A backup's ``manifest.json``: what it holds, each file's size and SHA-256, written last.

    manifest.json     {format, version, created_at, app_version, database, storage, files}
    database.*        the database snapshot (store/dump.py), events.sqlite3 beside it on SQLite
    blobs/<key>       every blob of the storage, one file per key

A restore checks every file against the manifest before it changes anything, and refuses a
backup with a file missing, changed, truncated or added, or a manifest it cannot read.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

FORMAT = "holomate-backup"
VERSION = 1
MANIFEST = "manifest.json"
BLOBS = "blobs"
_CHUNK = 1 << 20


class BackupCorrupted(Exception):
    """The backup does not match its manifest: nothing was restored."""


@dataclass(frozen=True, slots=True)
class FileEntry:
    path: str  # relative to the backup folder, with forward slashes
    size: int
    sha256: str


@dataclass(slots=True)
class Manifest:
    created_at: str
    app_version: str
    database: dict[str, Any]  # engine, schema_revision, files
    storage: dict[str, Any]  # kind, location, blobs
    files: list[FileEntry] = field(default_factory=list)
    format: str = FORMAT
    version: int = VERSION

    def write(self, folder: Path) -> None:
        body = json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"
        (folder / MANIFEST).write_text(body, encoding="utf-8")


def describe(folder: Path, path: str) -> FileEntry:
    """The entry for ``folder/path`` as it is on disk now."""
    digest = hashlib.sha256()
    size = 0
    with open(folder / path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return FileEntry(path, size, digest.hexdigest())


def verified(folder: Path) -> Manifest:
    """The manifest of the backup in ``folder`` once every file matches it, else
    ``BackupCorrupted`` naming what does not."""
    manifest = _read(folder)
    problems = []
    listed = set()
    for entry in manifest.files:
        listed.add(entry.path)
        if not (folder / entry.path).is_file():
            problems.append(f"{entry.path}: missing")
            continue
        found = describe(folder, entry.path)
        if found.size != entry.size:
            problems.append(f"{entry.path}: {found.size} bytes, the manifest says {entry.size}")
        elif found.sha256 != entry.sha256:
            problems.append(
                f"{entry.path}: SHA-256 {found.sha256}, the manifest says {entry.sha256}"
            )
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_file() and name != MANIFEST and name not in listed:
            problems.append(f"{name}: not in the manifest")
    if problems:
        shown = "; ".join(problems[:10]) + (
            f"; and {len(problems) - 10} more" if len(problems) > 10 else ""
        )
        raise BackupCorrupted(f"the backup in {folder} is corrupted: {shown}")
    return manifest


def _read(folder: Path) -> Manifest:
    try:
        raw = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        if raw.get("format") != FORMAT:
            raise BackupCorrupted(f"{folder / MANIFEST} is not a Holo-Mate backup manifest")
        if raw.get("version") != VERSION:
            raise BackupCorrupted(
                f"backup format version {raw.get('version')} is not supported (this release "
                f"reads version {VERSION})"
            )
        files = [FileEntry(**entry) for entry in raw.pop("files")]
        manifest = Manifest(**raw, files=files)
    except FileNotFoundError as e:
        raise BackupCorrupted(f"no {MANIFEST} in {folder}: not a complete backup") from e
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise BackupCorrupted(f"{folder / MANIFEST} cannot be read: {e}") from e
    for entry in manifest.files:
        parts = PurePosixPath(entry.path).parts
        if entry.path.startswith("/") or ".." in parts or not parts:
            raise BackupCorrupted(
                f"{folder / MANIFEST} names a file outside the backup: {entry.path}"
            )
    return manifest
