"""A VRM 0.x character's manifest names VRM 0.x expressions; a VRM 1.0 one keeps VRM 1.0's."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, text
from starlette.applications import Starlette

from store.base import UTCDateTime, utcnow
from tests.devices.helpers import ASSIGN, pair_in_process
from tests.support.graphql import GraphQLClient, create_companion, register

CREATE_ASSET = """
mutation($input: CharacterAssetInput!) {
  createCharacterAsset(input: $input) { id format vrmVersion }
}
"""
MANIFEST = """
{ deviceManifest { character { vrmVersion
    visemeBlendshapes { viseme blendshapes { name weight } }
    emotionAnimations { emotion animation } } } }
"""


async def manifest_of(
    api: GraphQLClient, token: str, device: dict[str, Any], **asset: Any
) -> dict[str, Any]:
    """The character the device renders once it is given a companion wearing this asset."""
    input = {"name": "Mira", "url": "https://cdn.example.com/m.vrm", **asset}
    created = await api.ok(CREATE_ASSET, {"input": input}, token)
    companion = await create_companion(
        api, token, characterAssetId=created["createCharacterAsset"]["id"]
    )
    await api.ok(ASSIGN, {"d": device["id"], "c": companion["id"]}, token)
    manifest = await api.ok(MANIFEST, token=device["token"])
    character: dict[str, Any] = manifest["deviceManifest"]["character"]
    return character


def names(character: dict[str, Any]) -> tuple[dict[str, list[Any]], dict[str, str]]:
    visemes = {v["viseme"]: v["blendshapes"] for v in character["visemeBlendshapes"]}
    emotions = {e["emotion"]: e["animation"] for e in character["emotionAnimations"]}
    return visemes, emotions


async def test_a_vrm0_character_is_driven_by_vrm0_preset_names(api: GraphQLClient) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    device = await pair_in_process(api, token)
    vrm0 = await manifest_of(
        api, token, device, format="VRM", vrmVersion="VRM0", emotionMap={"surprise": "Surprised"}
    )
    assert vrm0["vrmVersion"] == "VRM0"
    visemes, emotions = names(vrm0)
    assert visemes["aa"] == [{"name": "A", "weight": 1.0}]
    assert visemes["E"] == [{"name": "E", "weight": 1.0}]
    assert visemes["ou"] == [{"name": "U", "weight": 1.0}]
    assert visemes["kk"] == [{"name": "I", "weight": 0.5}, {"name": "A", "weight": 0.2}]
    assert visemes["sil"] == []
    assert emotions["joy"] == "Joy" and emotions["sadness"] == "Sorrow"
    assert emotions["anger"] == "Angry" and emotions["affection"] == "Fun"
    assert emotions["surprise"] == "Surprised"  # the character's own clip wins
    assert emotions["fear"] == "Neutral"  # VRM 0.x has no surprised preset
    every = {n["name"] for shapes in visemes.values() for n in shapes} | set(emotions.values())
    assert not every & {"Blink", "Blink_L", "Blink_R", "LookUp", "LookDown"}

    vrm1 = await manifest_of(api, token, device, format="VRM")  # the default version
    assert vrm1["vrmVersion"] == "VRM1"
    visemes, emotions = names(vrm1)
    assert visemes["aa"] == [{"name": "aa", "weight": 1.0}]
    assert visemes["E"] == [{"name": "ee", "weight": 1.0}]
    assert emotions["joy"] == "happy" and emotions["surprise"] == "surprised"


async def test_an_unknown_vrm_version_is_refused(api: GraphQLClient) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    error = await api.error(
        CREATE_ASSET,
        {"input": {"name": "X", "format": "VRM", "url": "https://x.test/x.vrm", "vrmVersion": "2"}},
        token,
    )
    assert "VrmVersion" in error["message"]


async def test_characters_stored_before_the_version_column_are_vrm1(
    api: GraphQLClient, app: Starlette
) -> None:
    """The migration's server default: rows written without the column read as VRM 1.0."""
    token = (await register(api, "ada@example.com"))["accessToken"]
    user_id = int((await api.ok("{ me { id } }", token=token))["me"]["id"].split("_")[1])
    insert = text(
        "INSERT INTO character_assets (owner_id, name, format, url, rig, viseme_map,"
        " emotion_map, created_at, updated_at)"
        " VALUES (:o, 'Old', 'VRM', 'https://x.test/old.vrm', 'vrm', '{}', '{}', :t, :t)"
    ).bindparams(bindparam("t", type_=UTCDateTime()))
    async with app.state.holo.sessionmaker() as session:
        await session.execute(insert, {"o": user_id, "t": utcnow()})
        await session.commit()
    listed = await api.ok("{ characterAssets { name vrmVersion } }", token=token)
    assert listed["characterAssets"] == [{"name": "Old", "vrmVersion": "VRM1"}]
