"""What the model reads for one turn: card fields, macros, lorebook, memories, summary, history,
within the context budget (pipeline/context.py, pure)."""

from __future__ import annotations

from pipeline.context import (
    Budget,
    Character,
    LoreEntry,
    Recollection,
    Turn,
    TurnInput,
    build_context,
    example_blocks,
    lore_matches,
    substitute,
)
from pipeline.llm.base import ChatMessage
from pipeline.prompt import estimate_tokens

NOVA = Character(name="Nova", description="{{char}} is a stargazer who teaches {{user}} the sky.")
ROOMY = Budget(tokens=4000)


def turn(text: str = "hello", **fields: object) -> TurnInput:
    values: dict[str, object] = {"card": NOVA, "user_name": "Ada", "history": [Turn("user", text)]}
    values.update(fields)
    return TurnInput(**values)  # type: ignore[arg-type]


def system_of(messages: list[ChatMessage]) -> str:
    assert messages[0].role == "system"
    return messages[0].content


def tokens(messages: list[ChatMessage]) -> int:
    return sum(estimate_tokens(m.content) + 4 for m in messages)


def test_macros_name_the_companion_and_the_person() -> None:
    built = build_context(turn(), ROOMY)
    system = system_of(built.messages)
    assert "Nova is a stargazer who teaches Ada the sky." in system
    assert "You are Nova," in system and "talking with Ada" in system
    assert "{{" not in system
    assert substitute("<BOT> waves at <USER>, {{Char}}", "Nova", "Ada") == "Nova waves at Ada, Nova"


def test_a_card_system_prompt_replaces_the_main_prompt_and_original_brings_it_back() -> None:
    own = Character(name="Nova", system_prompt="Write like a pirate, {{user}}.")
    system = system_of(build_context(turn(card=own), ROOMY).messages)
    assert system.startswith("Write like a pirate, Ada.") and "You are Nova," not in system

    wrapped = Character(name="Nova", system_prompt="{{original}}\nWrite like a pirate.")
    system = system_of(build_context(turn(card=wrapped), ROOMY).messages)
    assert system.startswith("You are Nova,") and "Write like a pirate." in system


def test_post_history_instructions_follow_the_history() -> None:
    card = Character(name="Nova", post_history_instructions="{{original}}Stay in {{char}}'s voice.")
    history = [Turn("user", "hi"), Turn("assistant", "hello"), Turn("user", "how are you")]
    messages = build_context(turn(card=card, history=history), ROOMY).messages
    assert [m.role for m in messages] == ["system", "user", "assistant", "user", "system"]
    assert messages[-1].content == "Stay in Nova's voice."


def test_example_dialogue_is_parsed_on_start_blocks() -> None:
    dialogue = "<START>\n{{user}}: Hi\n{{char}}: Hello, star!\n<START>\n\n<START>\n{{user}}: Bye"
    assert example_blocks(dialogue) == ["{{user}}: Hi\n{{char}}: Hello, star!", "{{user}}: Bye"]
    card = Character(name="Nova", example_dialogue=dialogue)
    built = build_context(turn(card=card), ROOMY)
    assert built.examples_kept == 2
    assert "Ada: Hi\nNova: Hello, star!" in system_of(built.messages)


def test_example_dialogue_goes_first_when_space_is_short() -> None:
    history = [Turn("user" if i % 2 else "assistant", f"turn {i} " + "w" * 60) for i in range(30)]
    card = Character(name="Nova", example_dialogue="<START>\n{{char}}: " + "e" * 400)
    built = build_context(turn(card=card, history=history), Budget(tokens=600))
    assert built.examples_kept == 0 and built.history_kept > 3
    assert tokens(built.messages) <= 600


def test_lorebook_entries_join_when_a_key_appears_in_recent_messages() -> None:
    lore = [
        LoreEntry(keys=("Orion",), content="Orion is Nova's favourite constellation."),
        LoreEntry(keys=("comet",), content="Nova once saw a comet."),
        LoreEntry(keys=(), content="Nova lives in Lisbon.", constant=True),
    ]
    history = [Turn("user", "Did you see orion last night?")]
    system = system_of(build_context(turn(history=history, lorebook=lore), ROOMY).messages)
    assert "favourite constellation" in system and "Lisbon" in system
    assert "comet" not in system


def test_lorebook_keys_are_whole_words_case_and_secondary_keys_count() -> None:
    cat = LoreEntry(keys=("cat",), content="x")
    assert lore_matches(cat, "my Cat sleeps") and not lore_matches(cat, "scatter")
    strict = LoreEntry(keys=("Mars",), content="x", case_sensitive=True)
    assert lore_matches(strict, "Mars is red") and not lore_matches(strict, "mars bars")
    both = LoreEntry(keys=("moon",), secondary_keys=("landing", "apollo"), content="x",
                     selective=True)  # fmt: skip
    assert lore_matches(both, "the moon landing") and not lore_matches(both, "the moon is up")
    assert not lore_matches(LoreEntry(keys=("moon",), content="  "), "moon")


def test_lorebook_budget_drops_low_priority_first_and_keeps_insertion_order() -> None:
    entries = [
        LoreEntry(keys=("sky",), content="A " + "a" * 200, priority=1, insertion_order=1),
        LoreEntry(keys=("sky",), content="B " + "b" * 200, priority=9, insertion_order=3),
        LoreEntry(keys=("sky",), content="C " + "c" * 200, priority=5, insertion_order=2),
    ]
    built = build_context(turn("the sky", lorebook=entries), Budget(tokens=1000, lore_share=0.12))
    system = system_of(built.messages)
    assert built.lore_kept == 2 and "A aaa" not in system
    assert system.index("C ccc") < system.index("B bbb")


def test_only_the_recent_messages_wake_lorebook_entries() -> None:
    entry = LoreEntry(keys=("dragon",), content="Dragons live on the moon.")
    history = [Turn("user", "a dragon!"), *[Turn("user", f"msg {i}") for i in range(4)]]
    system = system_of(build_context(turn(history=history, lorebook=[entry]), ROOMY).messages)
    assert "Dragons live" not in system


def test_memories_are_listed_and_attributed_in_a_shared_conversation() -> None:
    memories = [Recollection("Is allergic to peanuts", "Ada"), Recollection("Plays cello", "Ben")]
    alone = system_of(build_context(turn(memories=memories[:1]), ROOMY).messages)
    assert "What you remember:\n- Is allergic to peanuts" in alone
    shared = system_of(build_context(turn(memories=memories, shared=True), ROOMY).messages)
    assert "- Ada: Is allergic to peanuts\n- Ben: Plays cello" in shared


def test_memories_stay_within_their_share_best_first() -> None:
    memories = [Recollection(f"fact {i} " + "m" * 40) for i in range(100)]
    built = build_context(turn(memories=memories), Budget(tokens=1000, memory_share=0.1))
    system = system_of(built.messages)
    assert 0 < built.memories_kept < 10
    assert "fact 0 " in system and "fact 99 " not in system


def test_summary_stands_in_for_older_turns() -> None:
    built = build_context(turn(summary="Ada adopted a cat named Pixel."), ROOMY)
    assert "Earlier in this conversation:\nAda adopted a cat named Pixel." in system_of(
        built.messages
    )


def test_history_keeps_the_newest_turns_that_fit_in_order() -> None:
    roles = ("user", "assistant")
    history = [Turn(roles[i % 2], f"msg {i} " + "x" * 80) for i in range(50)]
    built = build_context(turn(history=history), Budget(tokens=900))
    kept = [m.content for m in built.messages[1:]]
    assert kept == [t.text for t in history[-len(kept) :]] and 3 < len(kept) < 50
    assert built.history_kept == len(kept)
    assert tokens(built.messages) <= 900


def test_the_latest_message_beats_memories_summary_and_history() -> None:
    long = "start " + "y" * 1200 + " end"
    history = [Turn("user", "older message"), Turn("user", long)]
    just_enough = build_context(turn(long), ROOMY).tokens + 5
    built = build_context(
        turn(history=history, memories=[Recollection("likes tea")], summary="earlier stuff"),
        Budget(tokens=just_enough),
    )
    assert built.messages[-1].content == long and built.history_kept == 1
    assert built.memories_kept == 0 and "earlier stuff" not in system_of(built.messages)


def test_a_latest_message_over_the_whole_budget_is_cut_from_the_front() -> None:
    long = "start " + "y" * 8000 + " end"
    built = build_context(turn(long), Budget(tokens=800))
    assert built.messages[-1].content.endswith(" end")
    assert tokens(built.messages) <= 800


def test_long_card_fields_are_clipped_so_the_conversation_still_fits() -> None:
    card = Character(name="Nova", description="word " * 3000, scenario="scene " * 3000)
    built = build_context(turn("are you there?", card=card), Budget(tokens=2000))
    assert built.messages[-1].content == "are you there?"
    assert tokens(built.messages) <= 2000


def test_typical_turn_is_small_for_a_small_model() -> None:
    history = [Turn("user", "Hi Nova! How was your day?"), Turn("assistant", "[joy] Lovely!")]
    built = build_context(turn(history=[*history, Turn("user", "Tell me a star fact.")]), ROOMY)
    assert built.tokens < 300


def test_in_a_shared_conversation_each_line_says_who_spoke() -> None:
    history = [
        Turn("user", "I'm Ada.", "Ada"),
        Turn("assistant", "Hi!"),
        Turn("user", "Me too", "Ben"),
    ]
    shared = build_context(turn(history=history, shared=True), ROOMY).messages[1:]
    assert [m.content for m in shared] == ["Ada: I'm Ada.", "Hi!", "Ben: Me too"]
    alone = build_context(turn(history=history), ROOMY).messages[1:]
    assert [m.content for m in alone] == ["I'm Ada.", "Hi!", "Me too"]


def test_text_that_is_not_ascii_is_cut_to_the_budget_too() -> None:
    long = "星" * 5000 + "？"
    card = Character(name="Nova", description="空" * 5000)
    built = build_context(turn(long, card=card), Budget(tokens=1000))
    assert built.messages[-1].content.endswith("星？")
    assert tokens(built.messages) <= 1000
