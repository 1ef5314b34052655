"""Signed media links: the reply audio and export downloads clients fetch over plain HTTP."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
from starlette.applications import Starlette

KEY = "users/7/audio/42/0.wav"
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt "


async def test_a_signed_link_serves_the_audio_with_its_content_type(
    app: Starlette, http: httpx.AsyncClient
) -> None:
    storage = app.state.holo.storage
    await storage.put(KEY, WAV, "audio/wav")
    response = await http.get(storage.signed_url(KEY, 60))
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav"
    assert response.content == WAV


async def test_a_tampered_signature_is_refused(app: Starlette, http: httpx.AsyncClient) -> None:
    storage = app.state.holo.storage
    await storage.put(KEY, WAV, "audio/wav")
    url = urlsplit(storage.signed_url(KEY, 60))
    exp = parse_qs(url.query)["exp"][0]
    response = await http.get(url.path, params={"exp": exp, "sig": "0" * 64})
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # A valid signature for one key does not open another.
    other = await http.get(url.path.replace("0.wav", "1.wav") + "?" + url.query)
    assert other.status_code == 403


async def test_an_expired_link_is_refused(app: Starlette, http: httpx.AsyncClient) -> None:
    storage = app.state.holo.storage
    await storage.put(KEY, WAV, "audio/wav")
    response = await http.get(storage.signed_url(KEY, -5))
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_signed_link_to_a_deleted_file_is_not_found(
    app: Starlette, http: httpx.AsyncClient
) -> None:
    storage = app.state.holo.storage
    await storage.put(KEY, WAV, "audio/wav")
    url = storage.signed_url(KEY, 60)
    await storage.delete_prefix("users/7")
    response = await http.get(url)
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
