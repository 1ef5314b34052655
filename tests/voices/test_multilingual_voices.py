"""An OpenAI voice is listed as "multilingual": a profile for it is saved with that very label
(what the web app's voice form sends) or with a language the person picks, never with a label
the voice is not listed with. OpenAI is the local fake speaking its wire format."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from api.settings import Settings
from tests.pipeline.wire_servers import GOOD_KEY, Wire, openai_app, serve
from tests.support.graphql import GraphQLClient, register
from tests.voices.test_voice_profiles import AVAILABLE, CREATE


@pytest.fixture
def settings(settings: Settings) -> Iterator[Settings]:
    with serve(openai_app(Wire())) as base:
        yield settings.model_copy(
            update={"openai_api_key": SecretStr(GOOD_KEY), "openai_base_url": f"{base}/v1"}
        )


async def test_an_openai_voice_is_saved_with_the_language_it_is_listed_with(
    api: GraphQLClient,
) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    voices = (await api.ok(AVAILABLE, token=token))["availableVoices"]
    nova = next(v for v in voices if v["provider"] == "openai" and v["voiceId"] == "nova")
    assert nova["language"] == "multilingual"
    as_listed = {k: nova[k] for k in ("name", "provider", "voiceId", "language")}
    saved = (await api.ok(CREATE, {"input": as_listed}, token))["createVoiceProfile"]
    assert (saved["provider"], saved["voiceId"], saved["language"]) == (
        "openai",
        "nova",
        "multilingual",
    )
    picked = {**as_listed, "language": "de"}
    saved = (await api.ok(CREATE, {"input": picked}, token))["createVoiceProfile"]
    assert (saved["voiceId"], saved["language"]) == ("nova", "de")


async def test_a_label_is_only_taken_for_the_voice_listed_with_it(api: GraphQLClient) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    for input in (
        {"provider": "espeak", "voiceId": "de", "language": "multilingual"},
        {"provider": "openai", "voiceId": "multilingual", "language": "multilingual"},
        {"provider": "openai", "language": "multilingual"},
        {"provider": "openai", "voiceId": "nova", "language": "English"},
    ):
        error = await api.error(CREATE, {"input": {"name": "V", **input}}, token)
        assert (error["extensions"]["code"], error["extensions"]["field"]) == (
            "BAD_USER_INPUT",
            "language",
        ), input
