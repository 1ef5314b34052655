"""A person with something in every table, made the way the product makes it where it can."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette

from schema import ids
from store.models import (
    AnimationSequence,
    CharacterAsset,
    HologramDevice,
    Message,
    MessageRole,
    MessageStatus,
)
from tests.support.graphql import GraphQLClient, create_companion, register, start_conversation

SET_PREFERENCES = """
mutation { setPreferences(input: {preferredName: "Addy", topicsToAvoid: ["weather"]})
  { preferredName } }
"""
CREATE_VOICE = """
mutation($input: CreateVoiceProfileInput!) { createVoiceProfile(input: $input) { id name } }
"""
INVITE = """
mutation($id: ID!, $email: String!) { inviteToConversation(id: $id, email: $email) { id } }
"""
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt fake-audio"


@dataclass
class Person:
    user_id: int
    email: str
    token: str
    conversation_id: int
    message_id: int
    audio_key: str


async def person_with_everything(
    api: GraphQLClient, app: Starlette, email: str, name: str
) -> Person:
    auth = await register(api, email, name)
    token = auth["accessToken"]
    user_id = ids.decode("User", auth["user"]["id"])
    await api.ok(SET_PREFERENCES, token=token)
    await api.ok(CREATE_VOICE, {"input": {"name": f"{name}'s voice", "voiceId": "en-gb"}}, token)
    companion = await create_companion(api, token, f"{name}'s Mira")
    conversation = await start_conversation(api, token, companion["id"])
    conversation_id = ids.decode("Conversation", conversation["id"])
    async with app.state.holo.sessionmaker() as session:
        await add_message(session, conversation_id, None, "Hello!")  # a greeting, without audio
        asset = CharacterAsset(owner_id=user_id, name="Avatar", url="https://cdn.example/a.vrm")
        session.add(asset)
        await session.flush()
        session.add(AnimationSequence(character_asset_id=asset.id, name="wave", clip="wave.anim"))
        session.add(
            HologramDevice(owner_id=user_id, name="Desk", model="HoloCube", serial=f"SN-{name}")
        )
        message = await add_message(session, conversation_id, user_id, f"I am {name}, {email}")
        audio_key = f"users/{user_id}/audio/{message.id}/0.wav"
        message.audio = [{"key": audio_key, "seq": 0, "mime_type": "audio/wav"}]
        await session.commit()
    await app.state.holo.storage.put(audio_key, WAV, "audio/wav")
    return Person(user_id, email, token, conversation_id, message.id, audio_key)


async def add_message(
    session: Any,
    conversation_id: int,
    author_id: int | None,
    text: str,
    reply_to_id: int | None = None,
) -> Message:
    message = Message(
        conversation_id=conversation_id,
        author_id=author_id,
        role=MessageRole.USER if author_id else MessageRole.COMPANION,
        text=text,
        status=MessageStatus.COMPLETE,
        reply_to_id=reply_to_id,
    )
    session.add(message)
    await session.flush()
    return message
