"""Every object is its owner's (or its participants'): strangers get NOT_FOUND, as for a
missing id; anonymous callers get UNAUTHENTICATED."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.graphql import GraphQLClient, create_companion, register, start_conversation


async def _world(api: GraphQLClient, app: Any) -> dict[str, Any]:
    from store.models import CharacterAsset, HologramDevice, VoiceProfile

    owner = await register(api, "owner@example.com", "Owner")
    stranger = await register(api, "stranger@example.com", "Stranger")
    owner_pk = int(owner["user"]["id"].split("_")[1])
    async with app.state.holo.sessionmaker() as session:
        voice = VoiceProfile(owner_id=owner_pk, name="Warm", voice_id="en-us")
        asset = CharacterAsset(owner_id=owner_pk, name="Mira", url="https://cdn/x.vrm")
        device = HologramDevice(owner_id=owner_pk, name="Desk", model="HX1", serial="S1")
        session.add_all([voice, asset, device])
        await session.commit()
    comp = await create_companion(
        api,
        owner["accessToken"],
        greeting="Hello!",
        voiceProfileId=f"vce_{voice.id}",
        characterAssetId=f"chr_{asset.id}",
    )
    conv = await start_conversation(api, owner["accessToken"], comp["id"])
    msgs = await api.ok(
        "query($id: ID!) { conversation(id: $id) { messages { edges { node { id } } } } }",
        {"id": conv["id"]},
        owner["accessToken"],
    )
    return {
        "owner": owner["accessToken"],
        "stranger": stranger["accessToken"],
        "companion": comp["id"],
        "conversation": conv["id"],
        "message": msgs["conversation"]["messages"]["edges"][0]["node"]["id"],
        "voice": f"vce_{voice.id}",
        "asset": f"chr_{asset.id}",
    }


# (name, query, variables built from the world, path to the owner's result)
BY_ID = [
    ("companion", "query($id: ID!) { companion(id: $id) { id } }", "companion"),
    ("conversation", "query($id: ID!) { conversation(id: $id) { id } }", "conversation"),
    (
        "messages",
        "query($id: ID!) { conversation(id: $id) { messages { edges { node { id } } } } }",
        "conversation",
    ),
    (
        "updateCompanion",
        'mutation($id: ID!) { updateCompanion(id: $id, input: {name: "X"}) { id } }',
        "companion",
    ),
    (
        "renameConversation",
        'mutation($id: ID!) { renameConversation(id: $id, title: "X") { id } }',
        "conversation",
    ),
    (
        "archiveConversation",
        "mutation($id: ID!) { archiveConversation(id: $id) { id } }",
        "conversation",
    ),
    (
        "inviteToConversation",
        "mutation($id: ID!) { inviteToConversation(id: $id, "
        'email: "stranger@example.com") { id } }',
        "conversation",
    ),
    (
        "startConversation",
        "mutation($id: ID!) { startConversation(companionId: $id) { id } }",
        "companion",
    ),
    ("deleteMessage", "mutation($id: ID!) { deleteMessage(id: $id) }", "message"),
    ("deleteCompanion", "mutation($id: ID!) { deleteCompanion(id: $id) }", "companion"),
    (
        "useVoiceProfile",
        'mutation($id: ID!) { createCompanion(input: {name: "X", voiceProfileId: $id}) { id } }',
        "voice",
    ),
    (
        "useCharacterAsset",
        'mutation($id: ID!) { createCompanion(input: {name: "X", characterAssetId: $id}) { id } }',
        "asset",
    ),
]


@pytest.mark.parametrize(("name", "query", "key"), BY_ID, ids=[b[0] for b in BY_ID])
async def test_by_id_owner_stranger_and_anonymous(
    api: GraphQLClient, app: Any, name: str, query: str, key: str
) -> None:
    world = await _world(api, app)
    variables = {"id": world[key]}
    stranger = await api.error(query, variables, world["stranger"])
    assert stranger["extensions"]["code"] == "NOT_FOUND", name
    # Exactly what a missing id answers: nothing tells the stranger the object exists.
    prefix = world[key].split("_")[0]
    missing = await api.error(query, {"id": f"{prefix}_999999"}, world["stranger"])
    assert missing["message"] == stranger["message"]
    anonymous = await api.error(query, variables)
    assert anonymous["extensions"]["code"] == "UNAUTHENTICATED", name
    await api.ok(query, variables, world["owner"])


LISTS = [
    ("companions", "{ companions { edges { node { id } } } }", ("companions", "edges")),
    ("conversations", "{ conversations { edges { node { id } } } }", ("conversations", "edges")),
    ("voiceProfiles", "{ voiceProfiles { id } }", ("voiceProfiles",)),
    ("characterAssets", "{ characterAssets { id } }", ("characterAssets",)),
    ("devices", "{ devices { id } }", ("devices",)),
]


@pytest.mark.parametrize(("name", "query", "path"), LISTS, ids=[c[0] for c in LISTS])
async def test_lists_show_only_the_callers_own(
    api: GraphQLClient, app: Any, name: str, query: str, path: tuple[str, ...]
) -> None:
    world = await _world(api, app)

    def dig(data: dict[str, Any]) -> Any:
        for key in path:
            data = data[key]
        return data

    assert len(dig(await api.ok(query, token=world["owner"]))) == 1
    assert dig(await api.ok(query, token=world["stranger"])) == []
    assert (await api.error(query))["extensions"]["code"] == "UNAUTHENTICATED"


async def test_billing_and_preferences_need_a_person(api: GraphQLClient) -> None:
    for query in (
        "{ billing { plan } }",
        'mutation { updateMe(displayName: "x") { id } }',
        "mutation { setPreferences(input: {}) { language } }",
    ):
        assert (await api.error(query))["extensions"]["code"] == "UNAUTHENTICATED"


async def test_malformed_and_wrong_type_ids_read_as_not_found(api: GraphQLClient) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    comp = await create_companion(api, token)
    for bad in ("", "cmp_", "cmp_abc", "cnv_1", "12", "cmp_1_2", "cmp_" + "9" * 40):
        error = await api.error("query($id: ID!) { companion(id: $id) { id } }", {"id": bad}, token)
        assert error["extensions"]["code"] == "NOT_FOUND", bad
    await api.ok("query($id: ID!) { companion(id: $id) { id } }", {"id": comp["id"]}, token)
