"""``holomate backup FOLDER`` and ``holomate restore FOLDER``: the database and the storage the
settings name (HOLOMATE_DATABASE_URL, HOLOMATE_STORAGE...), with a checksummed manifest.

docs/operations/backup.md is the runbook (what is saved, RPO/RTO, disaster recovery).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from api.providers import build_storage
from api.settings import Settings, get_settings

EXIT_REFUSED = 2  # the backup is corrupted or cannot be restored here; nothing was changed


def add_parsers(sub: Any) -> None:
    backup = sub.add_parser(
        "backup", help="save the database and the stored files into a new folder"
    )
    backup.add_argument(
        "folder", type=Path, help="a new (or empty) folder for this backup, or a new FILE.tar"
    )
    backup.set_defaults(run=_backup)

    restore = sub.add_parser(
        "restore",
        help="replace the database and the stored files with a backup (stop the servers first)",
    )
    restore.add_argument(
        "folder", type=Path, help="a folder (or .tar file) written by 'holomate backup'"
    )
    restore.add_argument(
        "--check", action="store_true", help="only verify the backup against its manifest"
    )
    restore.add_argument(
        "--yes", action="store_true", help="confirm: today's data is replaced by the backup's"
    )
    restore.set_defaults(run=_restore)


def storage_location(settings: Settings) -> dict[str, Any]:
    if settings.storage == "s3":
        return {
            "kind": "s3",
            "bucket": settings.s3_bucket,
            "prefix": settings.s3_prefix,
            "endpoint_url": settings.s3_endpoint_url,
        }
    return {"kind": "local", "path": str(settings.storage_dir)}


def _target(settings: Settings) -> Any:
    from services.backup.run import Target

    return Target(settings.database_url, build_storage(settings), storage_location(settings))


def _backup(args: argparse.Namespace) -> int:
    from services.backup.run import BackupError, back_up

    settings = get_settings()
    try:
        manifest = asyncio.run(back_up(_target(settings), args.folder, _app_version()))
    except BackupError as e:
        print(f"backup failed: {e}", file=sys.stderr)
        return 1
    total = sum(entry.size for entry in manifest.files)
    print(
        json.dumps(
            {
                "folder": str(args.folder),
                "database": manifest.database,
                "blobs": manifest.storage["blobs"],
                "bytes": total,
            }
        )
    )
    return 0


def _restore(args: argparse.Namespace) -> int:
    from services.backup.manifest import BackupCorrupted
    from services.backup.run import BackupError, check, restore
    from store.dump import head_revision

    try:
        if args.check:
            manifest = check(args.folder)
            print(f"{args.folder}: {len(manifest.files)} files match the manifest")
            return 0
        if not args.yes:
            print(
                "restore replaces the database and every stored file with the backup's; "
                "stop the servers, then run again with --yes",
                file=sys.stderr,
            )
            return EXIT_REFUSED
        manifest = asyncio.run(restore(_target(get_settings()), args.folder))
    except (BackupCorrupted, BackupError) as e:
        print(f"restore refused: {e}", file=sys.stderr)
        return EXIT_REFUSED
    revision = manifest.database.get("schema_revision")
    print(f"restored the backup of {manifest.created_at} (schema revision {revision})")
    if revision != head_revision():
        print("the schema is older than this release: run 'holomate db upgrade'", file=sys.stderr)
    return 0


def _app_version() -> str:
    try:
        return version("holomate-server")
    except PackageNotFoundError:
        return "unknown"
