"""An operator backs up a running server, loses data, and restores it: every row of every table
and every stored file comes back as it was; a damaged backup is refused before anything
changes."""

from __future__ import annotations

import asyncio
import json
import os
import tarfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from api import cli
from api.app import create_app
from api.settings import Settings, get_settings
from pipeline.storage.s3 import S3BlobStorage
from schema import ids
from tests.cards.api import imported
from tests.cards.samples import card_png, picture, sillytavern_v2
from tests.context.talk import SEND, talk
from tests.data import snapshot
from tests.data.s3_server import S3Endpoint
from tests.privacy.seed import person_with_everything
from tests.support.graphql import GraphQLClient

DELETE_COMPANION = "mutation($id: ID!) { deleteCompanion(id: $id) }"
RENAME = 'mutation { setPreferences(input: {preferredName: "Someone else"}) { preferredName } }'


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[tuple[GraphQLClient, Starlette]]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield GraphQLClient(http), app


class Operator:
    """Runs ``holomate ...`` configured by the environment, as on the server's host."""

    def __init__(self, capfd: pytest.CaptureFixture[str]) -> None:
        self._capfd = capfd

    async def run(self, *argv: str) -> tuple[int, str]:
        code = await asyncio.to_thread(cli.main, list(argv))
        out, err = self._capfd.readouterr()
        return code, out + err


@pytest.fixture
def operator(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> Iterator[Operator]:
    monkeypatch.setenv("HOLOMATE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HOLOMATE_STORAGE_DIR", str(settings.storage_dir))
    get_settings.cache_clear()
    yield Operator(capfd)
    get_settings.cache_clear()


async def test_a_restore_brings_back_every_row_and_file_and_refuses_a_damaged_backup(
    settings: Settings, clean_db: None, tmp_path: Path, operator: Operator
) -> None:
    run = operator.run
    storage = settings.storage_dir
    async with running(settings) as (api, app):
        ada = await person_with_everything(api, app, "ada@example.com", "Ada")
        conversation = ids.encode("Conversation", ada.conversation_id)
        card = await imported(api.http, ada.token, card_png({"chara": sillytavern_v2()}, picture()))
        await talk(api, ada.token, conversation, "Hello there! How are you?")
    saved = await snapshot.take(settings.database_url, storage)
    assert saved.counts().keys() >= {"users", "companions", "messages", "lorebook_entries"}
    if settings.is_sqlite:
        assert saved.events["event_log"]  # the replay log, in its own file beside the database
    assert sum(k.endswith(".wav") for k in saved.files) >= 2 and any(
        "picture" in k for k in saved.files
    )

    backup = tmp_path / "backups" / "nightly"
    async with running(settings) as (api, _):  # online: the server keeps running during the backup
        code, out = await run("backup", str(backup))
        assert code == 0, out
        # Then things go wrong: new data, a companion deleted with its files, a setting changed,
        # files lost and damaged on disk.
        await api.ok(SEND, {"c": conversation, "t": "One more thing."}, ada.token)
        await api.ok(DELETE_COMPANION, {"id": card["id"]}, ada.token)
        await api.ok(RENAME, token=ada.token)
    (storage / ada.audio_key).unlink()
    damaged = next(storage.rglob("*.wav"))
    damaged.write_bytes(b"overwritten")
    assert await snapshot.take(settings.database_url, storage) != saved

    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["database"]["schema_revision"]
    assert {f["path"] for f in manifest["files"]} >= {f"blobs/{key}" for key in saved.files}

    code, out = await run("restore", "--yes", str(backup))
    assert code == 0, out
    restored = await snapshot.take(settings.database_url, storage)
    assert restored.rows == saved.rows
    assert restored.events == saved.events
    assert restored.files == saved.files

    # A backup whose file no longer matches its checksum is refused, and nothing is touched.
    blob = next((backup / "blobs").rglob("*.wav"))
    blob.write_bytes(blob.read_bytes()[:-1] + b"\0")
    (storage / ada.audio_key).unlink()
    changed = await snapshot.take(settings.database_url, storage)
    code, out = await run("restore", "--yes", str(backup))
    assert code == 2
    assert "corrupted" in out and blob.relative_to(backup).as_posix() in out
    assert await snapshot.take(settings.database_url, storage) == changed


@pytest.mark.one_backend
async def test_a_bucket_prefix_is_backed_up_and_restored_with_what_each_blob_is(
    s3: S3Endpoint,
    bucket: str,
    operator: Operator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    web: httpx.AsyncClient,
) -> None:
    for name, value in s3.settings_env(bucket, "prod").items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    blobs = S3BlobStorage(s3.client(), bucket, "prod")
    await blobs.put("users/1/audio/2/0.wav", b"RIFF-one", "audio/wav")
    await blobs.put("users/1/exports/3.zip", b"PK-zip", "application/zip")
    other = S3BlobStorage(s3.client(), bucket, "staging")  # another deployment's prefix
    await other.put("users/1/audio/2/0.wav", b"RIFF-staging", "audio/wav")

    code, out = await operator.run("backup", str(tmp_path / "b"))
    assert code == 0, out
    assert json.loads(out)["blobs"] == 2
    await blobs.delete_prefix("users/1/audio")
    await blobs.put("users/1/audio/9/0.wav", b"RIFF-later", "audio/wav")

    code, out = await operator.run("restore", "--yes", str(tmp_path / "b"))
    assert code == 0, out
    assert s3.objects(bucket) == {
        "prod/users/1/audio/2/0.wav": b"RIFF-one",
        "prod/users/1/exports/3.zip": b"PK-zip",
        "staging/users/1/audio/2/0.wav": b"RIFF-staging",
    }
    audio = await web.get(blobs.signed_url("users/1/audio/2/0.wav", 60))
    assert audio.headers["content-type"] == "audio/wav"
    export = await web.get(blobs.signed_url("users/1/exports/3.zip", 60))
    assert export.headers["content-disposition"] == 'attachment; filename="3.zip"'


@pytest.mark.one_backend
async def test_a_backup_can_be_one_tar_file_and_a_truncated_one_is_refused(
    settings: Settings, clean_db: None, operator: Operator, tmp_path: Path
) -> None:
    blob = settings.storage_dir / "users/1/audio/2/0.wav"
    blob.parent.mkdir(parents=True)
    blob.write_bytes(b"RIFF-before")
    archive = tmp_path / "holomate.tar"

    code, out = await operator.run("backup", str(archive))
    assert code == 0, out
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert names[0] == "manifest.json" and "blobs/users/1/audio/2/0.wav" in names
    blob.write_bytes(b"RIFF-after")
    code, out = await operator.run("restore", "--yes", str(archive))
    assert code == 0, out
    assert blob.read_bytes() == b"RIFF-before"
    left = await asyncio.to_thread(os.listdir, tmp_path)
    assert [name for name in left if name.startswith(".")] == []  # unpacked for the restore, gone

    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    code, out = await operator.run("restore", "--check", str(archive))
    assert code == 2 and "restore refused" in out
