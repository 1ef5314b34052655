"""Download my data: one zip with every row about the person and their audio."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update
from starlette.applications import Starlette

from services.retention import purge_expired_exports
from store.models import DataExport
from tests.privacy.seed import WAV, person_with_everything
from tests.support.graphql import GraphQLClient, register

EXPORT = "mutation { exportMyData { id status url expiresAt createdAt } }"
WATCH = "query($id: ID!) { dataExport(id: $id) { id status url expiresAt } }"


async def wait_until_ready(api: GraphQLClient, export_id: str, token: str) -> dict[str, Any]:
    for _ in range(200):
        job: dict[str, Any] = (await api.ok(WATCH, {"id": export_id}, token))["dataExport"]
        if job["status"] in ("READY", "FAILED"):
            return job
        await asyncio.sleep(0.05)
    raise AssertionError("export never finished")


async def test_an_export_holds_every_row_about_me_and_my_audio(
    api: GraphQLClient, app: Starlette, http: httpx.AsyncClient
) -> None:
    ada = await person_with_everything(api, app, "ada@example.com", "Ada")
    started = (await api.ok(EXPORT, token=ada.token))["exportMyData"]
    assert started["status"] in ("PENDING", "RUNNING") and started["url"] is None

    job = await wait_until_ready(api, started["id"], ada.token)
    assert job["status"] == "READY"
    expires = datetime.fromisoformat(job["expiresAt"])
    assert timedelta(minutes=55) < expires - datetime.now(UTC) <= timedelta(hours=1)

    response = await http.get(job["url"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.read(f"audio/{ada.message_id}/0.wav") == WAV
    raw = archive.read("data.json").decode()
    data = json.loads(raw)
    assert data["user"]["email"] == "ada@example.com"
    assert "password_hash" not in raw and "argon2" not in raw
    assert data["preferences"]["preferred_name"] == "Addy"
    assert data["billing_subscription"]["plan"] == "free"
    assert [c["name"] for c in data["companions"]] == ["Ada's Mira"]
    assert [v["voice_id"] for v in data["voice_profiles"]] == ["en-gb"]
    assert data["character_assets"][0]["animation_sequences"][0]["clip"] == "wave.anim"
    assert data["devices"][0]["serial"] == "SN-Ada" and "token_version" not in data["devices"][0]
    texts = [m["text"] for m in data["conversations"][0]["messages"]]
    assert texts == ["Hello!", "I am Ada, ada@example.com"]
    assert data["audio_files"] == [f"audio/{ada.message_id}/0.wav"]


async def test_someone_else_cannot_see_my_export(api: GraphQLClient, app: Starlette) -> None:
    ada = (await register(api, "ada@example.com"))["accessToken"]
    eve = (await register(api, "eve@example.com", "Eve"))["accessToken"]
    started = (await api.ok(EXPORT, token=ada))["exportMyData"]
    error = await api.error(WATCH, {"id": started["id"]}, eve)
    assert error["extensions"]["code"] == "NOT_FOUND"
    await wait_until_ready(api, started["id"], ada)


async def test_an_expired_export_link_stops_working(
    api: GraphQLClient, app: Starlette, http: httpx.AsyncClient
) -> None:
    ada = (await register(api, "ada@example.com"))["accessToken"]
    started = (await api.ok(EXPORT, token=ada))["exportMyData"]
    url = (await wait_until_ready(api, started["id"], ada))["url"]
    async with app.state.holo.sessionmaker() as session:
        past = datetime.now(UTC) - timedelta(seconds=1)
        await session.execute(update(DataExport).values(expires_at=past))
        await session.commit()
    job = (await api.ok(WATCH, {"id": started["id"]}, ada))["dataExport"]
    assert job["url"] is None
    async with app.state.holo.sessionmaker() as session:
        purged = await purge_expired_exports(session, app.state.holo.storage, datetime.now(UTC))
    assert purged == 1
    assert (await http.get(url)).status_code == 404, "the archive is gone from the disk"
