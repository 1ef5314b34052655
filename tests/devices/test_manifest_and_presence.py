"""What a device renders (its manifest), and presence when a server process vanishes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from starlette.applications import Starlette

from store.base import utcnow
from store.models import HologramDevice
from tests.devices.helpers import ASSIGN, DEVICES, pair_in_process
from tests.support.graphql import GraphQLClient, create_companion, register

CREATE_ASSET = """
mutation($input: CharacterAssetInput!) { createCharacterAsset(input: $input) { id format } }
"""
ADD_ANIMATION = """
mutation($a: ID!, $input: AnimationSequenceInput!) {
  addAnimationSequence(characterAssetId: $a, input: $input) { id name clip durationMs loop }
}
"""
MANIFEST = """
{ deviceManifest {
    deviceId companionId companionName speaks volume asleep
    character { name url format rig
      visemeBlendshapes { viseme blendshapes { name weight } }
      emotionAnimations { emotion animation }
      animations { name clip durationMs loop } }
    voice { name } } }
"""


async def test_the_manifest_describes_the_assigned_companions_character(
    api: GraphQLClient,
) -> None:
    owner = await register(api, "ada@example.com")
    token = owner["accessToken"]
    asset = (
        await api.ok(
            CREATE_ASSET,
            {
                "input": {
                    "name": "Mira",
                    "format": "VRM",
                    "url": "https://cdn.example.com/mira.vrm",
                    "visemeMap": {"PP": {"name": "mouthClose", "weight": 0.8}},
                    "emotionMap": {"joy": "bigSmile"},
                }
            },
            token,
        )
    )["createCharacterAsset"]
    wave = {"name": "wave", "clip": "Wave_01", "durationMs": 1800, "loop": False}
    added = await api.ok(ADD_ANIMATION, {"a": asset["id"], "input": wave}, token)
    assert added["addAnimationSequence"]["clip"] == "Wave_01"
    companion = await create_companion(api, token, characterAssetId=asset["id"])
    device = await pair_in_process(api, token)
    before = (await api.ok(MANIFEST, token=device["token"]))["deviceManifest"]
    assert before["companionId"] is None and before["character"]["url"] is None
    await api.ok(ASSIGN, {"d": device["id"], "c": companion["id"]}, token)

    manifest = (await api.ok(MANIFEST, token=device["token"]))["deviceManifest"]
    assert manifest["companionId"] == companion["id"] and manifest["companionName"] == "Mira"
    character = manifest["character"]
    assert character["url"] == "https://cdn.example.com/mira.vrm"
    assert character["format"] == "VRM"
    shapes = {v["viseme"]: v["blendshapes"] for v in character["visemeBlendshapes"]}
    assert len(shapes) == 15
    assert shapes["PP"] == [{"name": "mouthClose", "weight": 0.8}]  # the character's own
    assert shapes["aa"] == [{"name": "aa", "weight": 1.0}]  # the VRM default
    assert shapes["sil"] == []
    emotions = {e["emotion"]: e["animation"] for e in character["emotionAnimations"]}
    assert emotions["joy"] == "bigSmile" and emotions["sadness"] == "sad"
    assert character["animations"] == [wave]


async def test_bad_character_maps_are_refused(api: GraphQLClient) -> None:
    owner = await register(api, "ada@example.com")
    error = await api.error(
        CREATE_ASSET,
        {
            "input": {
                "name": "X",
                "format": "GLB",
                "url": "https://cdn.example.com/x.glb",
                "visemeMap": {"mouthOpen": "jaw"},
            }
        },
        owner["accessToken"],
    )
    assert error["extensions"] == {**error["extensions"], "code": "BAD_USER_INPUT"}
    assert error["extensions"]["field"] == "visemeMap"


async def test_devices_of_a_vanished_process_go_offline_by_staleness(
    api: GraphQLClient, app: Starlette
) -> None:
    owner = await register(api, "ada@example.com")
    device = await pair_in_process(api, owner["accessToken"])
    pk = int(device["id"].split("_")[1])
    holo = app.state.holo
    # As if a socket on a process that then crashed had marked it online two minutes ago.
    async with holo.sessionmaker() as session:
        await session.execute(
            update(HologramDevice)
            .where(HologramDevice.id == pk)
            .values(presence_session="gone", last_seen_at=utcnow() - timedelta(minutes=2))
        )
        await session.commit()
    listed = (await api.ok(DEVICES, token=owner["accessToken"]))["devices"]
    assert listed[0]["online"] is False  # stale already reads as offline
    assert await holo.devices.presence.sweep() == 1
    assert await holo.devices.presence.sweep() == 0


async def test_one_heartbeat_keeps_every_device_held_here_online_and_lets_go_of_closed_ones(
    api: GraphQLClient, app: Starlette
) -> None:
    presence = app.state.holo.devices.presence
    tokens, pks = [], []
    for n in range(3):
        owner = await register(api, f"owner{n}@example.com")
        device = await pair_in_process(api, owner["accessToken"], serial=f"HX-{n}")
        tokens.append(owner["accessToken"])
        pks.append(int(device["id"].split("_")[1]))
    sessions = [await presence.connect(pk) for pk in pks]
    long_ago = utcnow() - timedelta(minutes=2)
    async with app.state.holo.sessionmaker() as session:  # as if the last beat were long ago
        await session.execute(
            update(HologramDevice).where(HologramDevice.id.in_(pks)).values(last_seen_at=long_ago)
        )
        await session.commit()
    await presence.disconnect(pks[2], sessions[2])  # its socket closed

    assert await presence.heartbeat() == 2  # the sockets held here, in one statement
    assert await presence.sweep() == 0  # both are fresh again: nobody is swept offline
    online = [(await api.ok(DEVICES, token=t))["devices"][0]["online"] for t in tokens]
    assert online == [True, True, False]
