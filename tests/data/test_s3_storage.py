"""Blobs in an S3 bucket: clients fetch them with presigned, expiring URLs straight from the
store; a store that cannot be reached leaves every client something to do next."""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from pipeline.broadcast.log_base import LogEntry
from pipeline.errors import ProviderUnavailable
from pipeline.ports import free_port
from pipeline.storage.s3 import MAX_EXPIRY_S, S3BlobStorage
from schema import ids
from services.channels import conversation_channel
from tests.cards.api import EXPORT, imported
from tests.cards.samples import card_png, picture, sillytavern_v2
from tests.context.talk import SEND, eventually, talk
from tests.data.s3_server import S3Endpoint
from tests.privacy.test_export import EXPORT as EXPORT_MY_DATA
from tests.privacy.test_export import wait_until_ready
from tests.realtime.helpers import TERMINAL
from tests.support.graphql import (
    CREATE_COMPANION,
    PASSWORD,
    REGISTER,
    START_CONVERSATION,
    GraphQLClient,
    create_companion,
    register,
    start_conversation,
)

pytestmark = pytest.mark.one_backend

PREFIX = "holomate"
LIVE_CURSOR = "query($c: ID!) { conversation(id: $c) { liveCursor } }"
AUDIO_EVENTS = """subscription($id: ID!, $after: String) {
  conversationEvents(conversationId: $id, after: $after) {
    __typename ... on AudioChunk { url mimeType } } }"""


def test_a_whole_replys_audio_lands_in_the_bucket_and_its_urls_fetch_it(
    s3_settings: Settings, clean_db: None, s3: S3Endpoint, bucket: str
) -> None:
    with TestClient(create_app(s3_settings)) as client:
        token, conversation, cursor = _conversation(client)
        ws = client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"])
        with ws as socket:
            socket.send_json({"type": "connection_init", "payload": {"authorization": token}})
            assert socket.receive_json()["type"] == "connection_ack"
            variables = {"id": conversation, "after": cursor}
            payload = {"query": AUDIO_EVENTS, "variables": variables}
            socket.send_json({"id": "1", "type": "subscribe", "payload": payload})
            _ok(client, SEND, {"c": conversation, "t": "Hello! Tell me about the stars."}, token)
            events = []
            while not events or events[-1]["__typename"] not in TERMINAL:
                message = socket.receive_json()
                assert message["type"] == "next", message
                events.append(message["payload"]["data"]["conversationEvents"])
    assert events[-1]["__typename"] == "ReplyCompleted", events
    chunks = [e for e in events if e["__typename"] == "AudioChunk"]
    assert len(chunks) >= 2  # one per sentence
    stored = s3.objects(bucket)
    assert set(stored) == {_object_of(chunk["url"], bucket) for chunk in chunks}
    assert all(key.startswith(f"{PREFIX}/users/") for key in stored)
    for chunk in chunks:
        assert chunk["url"].startswith(s3.url)  # from the store, not through the API
        response = httpx.get(chunk["url"])
        assert response.status_code == 200
        assert response.headers["content-type"] == chunk["mimeType"] == "audio/wav"
        assert response.content == stored[_object_of(chunk["url"], bucket)]
        assert response.content[:4] == b"RIFF"
    assert not list(s3_settings.storage_dir.rglob("*.wav"))  # nothing on the local disk


async def test_a_presigned_url_expires_when_asked_and_never_past_seven_days(
    s3: S3Endpoint, bucket: str, web: httpx.AsyncClient
) -> None:
    blobs = S3BlobStorage(s3.client(), bucket)
    await blobs.put("users/1/audio/9/0.wav", b"RIFF-audio", "audio/wav")
    before = time.time()
    url = blobs.signed_url("users/1/audio/9/0.wav", 120)
    query = parse_qs(urlsplit(url).query)
    # SigV4 query signing: the store refuses the URL once X-Amz-Date + X-Amz-Expires has passed
    # (moto serves it anyway: it does not check expiry, AWS and MinIO do).
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == ["120"]
    signed_at = time.mktime(time.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ")) - time.timezone
    assert before - 1 <= signed_at <= time.time() + 1
    assert "X-Amz-Signature" in query
    assert (await web.get(url)).content == b"RIFF-audio"
    week = parse_qs(urlsplit(blobs.signed_url("a/b.wav", 30 * 24 * 3600)).query)
    assert week["X-Amz-Expires"] == [str(MAX_EXPIRY_S)]


async def test_exports_and_character_assets_are_fetched_from_the_bucket(
    s3_app: Starlette, s3_api: GraphQLClient, s3: S3Endpoint, bucket: str, web: httpx.AsyncClient
) -> None:
    token = (await register(s3_api, "ada@example.com"))["accessToken"]
    image = picture(5, 4)
    made = await imported(s3_api.http, token, card_png({"chara": sillytavern_v2()}, image))
    # The companion's picture (from the card) is in the bucket, its URL presigned.
    shown = await web.get(made["pictureUrl"])
    assert shown.status_code == 200 and shown.content == image
    assert shown.headers["content-type"] == "image/png"
    assert "content-disposition" not in shown.headers  # shown inline

    card = await s3_api.ok(EXPORT, {"id": made["id"], "format": "JSON"}, token)
    download = await web.get(card["exportCharacterCard"]["url"])
    assert download.status_code == 200
    assert json.loads(download.content)["data"]["name"] == "Seraphina"
    filename = card["exportCharacterCard"]["filename"]
    assert download.headers["content-disposition"] == f'attachment; filename="{filename}"'

    started = (await s3_api.ok(EXPORT_MY_DATA, token=token))["exportMyData"]
    job = await wait_until_ready(s3_api, started["id"], token)
    assert job["status"] == "READY"
    archive = await web.get(job["url"])
    assert archive.headers["content-disposition"].startswith("attachment;")
    with zipfile.ZipFile(io.BytesIO(archive.content)) as z:
        assert "data.json" in z.namelist()
        picture_name = next(n for n in z.namelist() if n.startswith("pictures/"))
        assert z.read(picture_name) == image
    user = ids.decode("Companion", made["id"])
    keys = sorted(s3.objects(bucket))
    assert any(k.endswith(f"/companions/{user}/picture.png") for k in keys), keys
    assert any("/exports/" in k and k.endswith(".zip") for k in keys), keys
    # Nothing is served by the API's own /media route when the bucket holds the blobs.
    assert (await s3_api.http.get(f"/media/{keys[0]}?exp=9999999999&sig=0")).status_code == 403


def test_a_server_without_credentials_for_its_bucket_refuses_to_start(
    s3_settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # not an instance with a role
    with pytest.raises(ValueError, match="AWS_ACCESS_KEY_ID"):
        create_app(s3_settings)


@pytest.fixture
def unreachable(s3_settings: Settings) -> Settings:
    """The bucket's endpoint is down: nothing listens on its port."""
    return s3_settings.model_copy(update={"s3_endpoint_url": f"http://127.0.0.1:{free_port()}"})


async def test_a_store_that_cannot_be_reached_is_a_retryable_provider_outage(
    unreachable: Settings, s3: S3Endpoint
) -> None:
    blobs = S3BlobStorage(
        S3Endpoint(unreachable.s3_endpoint_url, s3.server).client(), unreachable.s3_bucket
    )
    for attempt in (
        blobs.put("a/b.wav", b"x", "audio/wav"),
        blobs.get("a/b.wav"),
        blobs.list_prefix("a"),
        blobs.delete_prefix("a"),
    ):
        with pytest.raises(ProviderUnavailable) as raised:
            await attempt
        assert raised.value.retryable
    missing_bucket = S3BlobStorage(s3.client(), "no-such-bucket")
    with pytest.raises(ProviderUnavailable, match="NoSuchBucket"):
        await missing_bucket.put("a/b.wav", b"x", "audio/wav")


async def test_with_the_store_down_replies_go_on_as_text_and_other_work_can_be_retried(
    unreachable: Settings, clean_db: None
) -> None:
    app = create_app(unreachable)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            api = GraphQLClient(http)
            token = (await register(api, "ada@example.com"))["accessToken"]
            companion = await create_companion(api, token)
            conversation = (await start_conversation(api, token, companion["id"]))["id"]

            cursor = (await api.ok(LIVE_CURSOR, {"c": conversation}, token))["conversation"]
            reply = await talk(api, token, conversation, "Hello! Tell me about the stars.")
            assert reply  # the whole reply, as text
            hub = app.state.holo.hub
            channel = hub.namespace + conversation_channel(ids.decode("Conversation", conversation))

            async def logged() -> list[LogEntry] | None:
                entries = await hub.log.read_after(channel, cursor["liveCursor"], 1000)
                done = any('"ReplyCompleted"' in e.payload for e in entries)
                return entries if done else None  # published just after the row is final

            entries = await eventually(logged)
            kinds = [json.loads(e.payload)["type"] for e in entries]
            assert "MessageDelta" in kinds
            assert kinds.count("ReplyDegraded") == 1 and "AudioChunk" not in kinds, kinds
            assert "AUDIO_STORAGE_FAILED" in next(
                e.payload for e in entries if "Degraded" in e.payload
            )

            error = await api.error(EXPORT, {"id": companion["id"], "format": "JSON"}, token)
            assert error["extensions"]["code"] == "PROVIDER_UNAVAILABLE"
            assert error["extensions"]["retryable"] is True

            started = (await api.ok(EXPORT_MY_DATA, token=token))["exportMyData"]
            job = await wait_until_ready(api, started["id"], token)
            assert job["status"] == "FAILED" and job["url"] is None  # asked again later


def _ok(client: TestClient, query: str, variables: dict[str, str], token: str = "") -> Any:
    headers = {"authorization": token} if token else {}
    body = client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert "errors" not in body.json(), body.json()
    return body.json()["data"]


def _conversation(client: TestClient) -> tuple[str, str, str]:
    """A person's bearer header, a conversation of theirs and its liveCursor."""
    auth = _ok(client, REGISTER, {"email": "ada@example.com", "password": PASSWORD, "name": "Ada"})
    token = "Bearer " + auth["register"]["accessToken"]
    companion = _ok(client, CREATE_COMPANION, {"input": {"name": "Mira"}}, token)
    started = _ok(
        client, START_CONVERSATION, {"companionId": companion["createCompanion"]["id"]}, token
    )
    conversation = started["startConversation"]["id"]
    cursor = _ok(client, LIVE_CURSOR, {"c": conversation}, token)["conversation"]["liveCursor"]
    return token, conversation, cursor


def _object_of(url: str, bucket: str) -> str:
    """The object a path-style presigned URL names."""
    return urlsplit(url).path.removeprefix(f"/{bucket}/")
