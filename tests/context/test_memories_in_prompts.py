"""What a person told a companion reaches that companion's later prompts, and only there: not
another companion's, not another person's; forgetting it or turning memory off takes it out."""

from __future__ import annotations

from typing import Any

from tests.context.recorder import Recorder
from tests.context.talk import QUIET, eventually, talk
from tests.support.graphql import GraphQLClient, create_companion, register, start_conversation

FACT = "I'm allergic to peanuts."
ASK = "What should I cook tonight?"
MEMORIES = "query($c: ID!) { memories(companionId: $c) { nodes { id text } } }"
FORGET = "mutation($id: ID!) { forgetMemory(id: $id) }"
MEMORY_OFF = """mutation($c: ID!) {
  updateCompanion(id: $c, input: {memoryEnabled: false}) { memoryEnabled } }"""
INVITE = 'mutation($c: ID!) { inviteToConversation(id: $c, email: "ben@example.com") { id } }'


async def _person(api: GraphQLClient, email: str, name: str) -> str:
    token: str = (await register(api, email, name))["accessToken"]
    await api.ok(QUIET, token=token)
    return token


async def _memories(api: GraphQLClient, token: str, companion: str) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = (await api.ok(MEMORIES, {"c": companion}, token))["memories"][
        "nodes"
    ]
    return nodes


async def _told(api: GraphQLClient, token: str, companion: str) -> list[dict[str, Any]]:
    """Tell the fact in a conversation and wait until it is remembered."""
    conv = (await start_conversation(api, token, companion))["id"]
    await talk(api, token, conv, FACT)

    async def remembered() -> list[dict[str, Any]]:
        return [m for m in await _memories(api, token, companion) if "peanut" in m["text"]]

    found: list[dict[str, Any]] = await eventually(remembered)
    return found


async def _prompt_after_asking(
    api: GraphQLClient, recorder: Recorder, token: str, companion: str
) -> str:
    conv = (await start_conversation(api, token, companion))["id"]
    await talk(api, token, conv, ASK)
    assert recorder.prompts[-1][-1]["content"] == ASK
    return recorder.last_system()


async def test_a_fact_told_once_is_in_a_later_conversations_prompt(
    model_api: GraphQLClient, recorder: Recorder
) -> None:
    ada = await _person(model_api, "ada@example.com", "Ada")
    nova = (await create_companion(model_api, ada, "Nova"))["id"]
    await _told(model_api, ada, nova)

    system = await _prompt_after_asking(model_api, recorder, ada, nova)
    assert "What you remember:" in system and "peanuts" in system


async def test_another_companion_does_not_know_it(
    model_api: GraphQLClient, recorder: Recorder
) -> None:
    ada = await _person(model_api, "ada@example.com", "Ada")
    nova = (await create_companion(model_api, ada, "Nova"))["id"]
    orion = (await create_companion(model_api, ada, "Orion"))["id"]
    await _told(model_api, ada, nova)

    system = await _prompt_after_asking(model_api, recorder, ada, orion)
    assert "You are Orion," in system and "peanuts" not in system


async def test_another_persons_memory_stays_out_of_a_conversation_they_are_not_in(
    model_api: GraphQLClient, recorder: Recorder
) -> None:
    ada = await _person(model_api, "ada@example.com", "Ada")
    ben = await _person(model_api, "ben@example.com", "Ben")
    nova = (await create_companion(model_api, ada, "Nova"))["id"]
    shared = (await start_conversation(model_api, ada, nova))["id"]
    await model_api.ok(INVITE, {"c": shared}, ada)
    await talk(model_api, ben, shared, FACT)  # Ben's fact, owned by Ben

    async def bens() -> list[dict[str, Any]]:
        return await _memories(model_api, ben, nova)

    assert "peanut" in (await eventually(bens))[0]["text"]
    assert not await _memories(model_api, ada, nova)

    await talk(model_api, ada, shared, ASK)  # Ben takes part: his memory, attributed
    assert "- Ben: " in recorder.last_system() and "peanuts" in recorder.last_system()
    system = await _prompt_after_asking(model_api, recorder, ada, nova)  # Ada alone
    assert "peanuts" not in system


async def test_forgetting_a_memory_takes_it_out_of_the_next_prompt(
    model_api: GraphQLClient, recorder: Recorder
) -> None:
    ada = await _person(model_api, "ada@example.com", "Ada")
    nova = (await create_companion(model_api, ada, "Nova"))["id"]
    [memory] = await _told(model_api, ada, nova)

    await model_api.ok(FORGET, {"id": memory["id"]}, ada)

    assert "peanuts" not in await _prompt_after_asking(model_api, recorder, ada, nova)


async def test_memory_off_stops_both_remembering_and_recalling(
    model_api: GraphQLClient, recorder: Recorder
) -> None:
    ada = await _person(model_api, "ada@example.com", "Ada")
    nova = (await create_companion(model_api, ada, "Nova"))["id"]
    await _told(model_api, ada, nova)
    await model_api.ok(MEMORY_OFF, {"c": nova}, ada)

    assert "peanuts" not in await _prompt_after_asking(model_api, recorder, ada, nova)
    conv = (await start_conversation(model_api, ada, nova))["id"]
    await talk(model_api, ada, conv, "I love green tea.")
    await talk(model_api, ada, conv, "Anything else?")  # the first turn's aftermath is done
    assert not [m for m in await _memories(model_api, ada, nova) if "tea" in m["text"]]
