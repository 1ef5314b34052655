"""Audio retention: old reply audio is deleted, the text of the conversation stays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.applications import Starlette

from services.retention import purge_old_audio
from store.models import Message
from tests.privacy.seed import person_with_everything
from tests.support.graphql import GraphQLClient


async def test_audio_older_than_the_window_is_purged_and_newer_audio_kept(
    api: GraphQLClient, app: Starlette
) -> None:
    ada = await person_with_everything(api, app, "ada@example.com", "Ada")
    bob = await person_with_everything(api, app, "bob@example.com", "Bob")
    state = app.state.holo
    now = datetime.now(UTC)
    async with state.sessionmaker() as session:
        old = await session.get_one(Message, ada.message_id)
        old.created_at = now - timedelta(days=31)
        await session.commit()

    async with state.sessionmaker() as session:
        assert await purge_old_audio(session, state.storage, now, 0) == 0, "0 keeps forever"
        assert await purge_old_audio(session, state.storage, now, 30) == 1
        assert await purge_old_audio(session, state.storage, now, 30) == 0, "nothing left"

    async with state.sessionmaker() as session:
        old = await session.get_one(Message, ada.message_id)
        new = await session.get_one(Message, bob.message_id)
    assert old.audio == [] and old.text.startswith("I am Ada")
    assert new.audio[0]["key"] == bob.audio_key
    assert await state.storage.list_prefix(f"users/{ada.user_id}/audio") == []
    assert await state.storage.list_prefix(f"users/{bob.user_id}/audio") == [bob.audio_key]
