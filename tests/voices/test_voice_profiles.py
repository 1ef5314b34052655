"""Voice profiles: pick a voice a provider offers, tune it, use it for a companion."""

from __future__ import annotations

from typing import Any

from tests.support.graphql import GraphQLClient, create_companion, register

AVAILABLE = "{ availableVoices { provider voiceId name language previewText } }"
FIELDS = "id name provider voiceId language speed stability similarity"
CREATE = f"""
mutation($input: CreateVoiceProfileInput!) {{ createVoiceProfile(input: $input) {{ {FIELDS} }} }}
"""
UPDATE = f"""
mutation($id: ID!, $input: UpdateVoiceProfileInput!) {{
  updateVoiceProfile(id: $id, input: $input) {{ {FIELDS} }} }}
"""
DELETE = "mutation($id: ID!) { deleteVoiceProfile(id: $id) }"
MINE = "{ voiceProfiles { id name } }"


async def test_the_offline_voices_are_listed_with_a_line_to_preview(api: GraphQLClient) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    voices = (await api.ok(AVAILABLE, token=token))["availableVoices"]
    by_id = {v["voiceId"]: v for v in voices if v["provider"] == "espeak"}
    assert "en-gb" in by_id and "de" in by_id
    assert by_id["de"]["previewText"].startswith("Hallo")
    assert all(v["previewText"] and v["name"] for v in voices)


async def test_a_profile_is_created_tuned_and_listed(api: GraphQLClient) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    created = (await api.ok(CREATE, {"input": {"name": "Calm", "voiceId": "en-gb"}}, token))[
        "createVoiceProfile"
    ]
    assert created | {"id": None} == {
        "id": None,
        "name": "Calm",
        "provider": "espeak",
        "voiceId": "en-gb",
        "language": "en",
        "speed": 1.0,
        "stability": 0.5,
        "similarity": 0.75,
    }
    tuned = (await api.ok(UPDATE, {"id": created["id"], "input": {"speed": 1.4}}, token))[
        "updateVoiceProfile"
    ]
    assert tuned["speed"] == 1.4 and tuned["name"] == "Calm"
    assert (await api.ok(MINE, token=token))["voiceProfiles"] == [
        {"id": created["id"], "name": "Calm"}
    ]


async def _error_field(api: GraphQLClient, token: str, input: dict[str, Any]) -> tuple[str, str]:
    error = await api.error(CREATE, {"input": {"name": "V", **input}}, token)
    return error["extensions"]["code"], error["extensions"].get("field", "")


async def test_out_of_range_settings_and_unknown_providers_are_refused(
    api: GraphQLClient,
) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    assert await _error_field(api, token, {"speed": 2.5}) == ("BAD_USER_INPUT", "speed")
    assert await _error_field(api, token, {"speed": 0.4}) == ("BAD_USER_INPUT", "speed")
    assert await _error_field(api, token, {"stability": -0.1}) == ("BAD_USER_INPUT", "stability")
    assert await _error_field(api, token, {"similarity": 1.01}) == ("BAD_USER_INPUT", "similarity")
    assert await _error_field(api, token, {"provider": "nope"}) == ("BAD_USER_INPUT", "provider")
    assert await _error_field(api, token, {"language": "English"}) == ("BAD_USER_INPUT", "language")
    assert (await api.ok(MINE, token=token))["voiceProfiles"] == []
    ok = await api.ok(CREATE, {"input": {"name": "Edge", "speed": 0.5, "similarity": 1}}, token)
    assert ok["createVoiceProfile"]["speed"] == 0.5


async def test_another_person_cannot_touch_my_profile(api: GraphQLClient) -> None:
    ada = (await register(api, "ada@example.com"))["accessToken"]
    eve = (await register(api, "eve@example.com", "Eve"))["accessToken"]
    profile = (await api.ok(CREATE, {"input": {"name": "Mine"}}, ada))["createVoiceProfile"]
    for query, variables in (
        (UPDATE, {"id": profile["id"], "input": {"name": "Stolen"}}),
        (DELETE, {"id": profile["id"]}),
    ):
        error = await api.error(query, variables, eve)
        assert error["extensions"]["code"] == "NOT_FOUND"
    assert (await api.ok(MINE, token=ada))["voiceProfiles"][0]["name"] == "Mine"


async def test_deleting_a_profile_leaves_its_companions_on_the_default_voice(
    api: GraphQLClient,
) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    profile = (await api.ok(CREATE, {"input": {"name": "Mine"}}, token))["createVoiceProfile"]
    companion = await create_companion(api, token, voiceProfileId=profile["id"])
    query = "query($id: ID!) { companion(id: $id) { voiceProfile { id } } }"
    before = await api.ok(query, {"id": companion["id"]}, token)
    assert before["companion"]["voiceProfile"] == {"id": profile["id"]}
    assert (await api.ok(DELETE, {"id": profile["id"]}, token))["deleteVoiceProfile"] == profile[
        "id"
    ]
    after = await api.ok(query, {"id": companion["id"]}, token)
    assert after["companion"]["voiceProfile"] is None
    assert (await api.ok(MINE, token=token))["voiceProfiles"] == []
