"""Values a device or a provider will act on are checked when stored: a voiceId must be one
the provider lists, and a character's weights and timings stay in range."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.graphql import GraphQLClient, register

CREATE_VOICE = """
mutation($input: CreateVoiceProfileInput!) { createVoiceProfile(input: $input) { id voiceId } }
"""
UPDATE_VOICE = """
mutation($id: ID!, $input: UpdateVoiceProfileInput!) {
  updateVoiceProfile(id: $id, input: $input) { id voiceId provider } }
"""
CREATE_ASSET = """
mutation($input: CharacterAssetInput!) { createCharacterAsset(input: $input) { id } }
"""
ADD_ANIMATION = """
mutation($a: ID!, $input: AnimationSequenceInput!) {
  addAnimationSequence(characterAssetId: $a, input: $input) { id durationMs } }
"""
MINE = "{ voiceProfiles { id voiceId } characterAssets { id } }"


def _field(error: dict[str, Any]) -> tuple[str, str]:
    return error["extensions"]["code"], error["extensions"].get("field", "")


@pytest.mark.parametrize("voice_id", ["../../../../bin/sh", "nova", "en-gb; rm -rf /", "EN-GB"])
async def test_a_voice_the_provider_does_not_list_is_refused(
    api: GraphQLClient, voice_id: str
) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    error = await api.error(CREATE_VOICE, {"input": {"name": "V", "voiceId": voice_id}}, token)
    assert _field(error) == ("BAD_USER_INPUT", "voiceId")
    profile = (await api.ok(CREATE_VOICE, {"input": {"name": "V", "voiceId": "en-gb"}}, token))[
        "createVoiceProfile"
    ]
    error = await api.error(
        UPDATE_VOICE, {"id": profile["id"], "input": {"voiceId": voice_id}}, token
    )
    assert _field(error) == ("BAD_USER_INPUT", "voiceId")
    assert (await api.ok(MINE, token=token))["voiceProfiles"] == [
        {"id": profile["id"], "voiceId": "en-gb"}
    ]


async def _asset(api: GraphQLClient, token: str, **maps: Any) -> dict[str, Any]:
    body = {"name": "Mira", "format": "VRM", "url": "https://cdn.example.com/m.vrm", **maps}
    return await api.raw(CREATE_ASSET, {"input": body}, token)


BAD_MAPS = [
    ("huge weight", {"visemeMap": {"aa": {"name": "jawOpen", "weight": 1e308}}}),
    ("negative weight", {"visemeMap": {"aa": {"name": "jawOpen", "weight": -0.1}}}),
    ("weight as text", {"visemeMap": {"aa": {"name": "jawOpen", "weight": "max"}}}),
    ("weight as bool", {"visemeMap": {"aa": {"name": "jawOpen", "weight": True}}}),
    ("no name", {"visemeMap": {"aa": {"weight": 0.5}}}),
    ("name a number", {"visemeMap": {"aa": 7}}),
    ("extra keys", {"visemeMap": {"aa": {"name": "jaw", "weight": 1, "scale": 9}}}),
    ("long list", {"visemeMap": {"aa": ["jaw"] * 17}}),
    ("bad list item", {"visemeMap": {"aa": ["jaw", {"name": "x", "weight": 2}]}}),
    ("control characters", {"visemeMap": {"aa": "jaw\x00"}}),
    ("emotion not a name", {"emotionMap": {"joy": {"clip": "smile"}}}),
    ("emotion name too long", {"emotionMap": {"joy": "x" * 500}}),
]


@pytest.mark.parametrize(("name", "maps"), BAD_MAPS, ids=[b[0] for b in BAD_MAPS])
async def test_character_maps_out_of_range_are_refused_with_their_field(
    api: GraphQLClient, name: str, maps: dict[str, Any]
) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    answer = await _asset(api, token, **maps)
    assert answer.get("errors"), name
    assert _field(answer["errors"][0]) == ("BAD_USER_INPUT", next(iter(maps)))
    assert (await api.ok(MINE, token=token))["characterAssets"] == []


async def test_sane_maps_and_timings_are_kept(api: GraphQLClient) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    maps = {
        "visemeMap": {"aa": [{"name": "jawOpen", "weight": 1}, "mouthWide"], "PP": "close"},
        "emotionMap": {"joy": "smile"},
    }
    answer = await _asset(api, token, **maps)
    assert "errors" not in answer, answer
    asset_id = answer["data"]["createCharacterAsset"]["id"]
    clip = {"name": "wave", "clip": "Wave", "loop": False}
    for duration, ok in ((600_000, True), (600_001, False), (-1, False)):
        result = await api.raw(
            ADD_ANIMATION, {"a": asset_id, "input": clip | {"durationMs": duration}}, token
        )
        if ok:
            assert "errors" not in result, result
        else:
            assert _field(result["errors"][0]) == ("BAD_USER_INPUT", "durationMs")
