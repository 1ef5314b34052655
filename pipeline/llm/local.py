"""The offline default "model": a few templates filled from the persona and the last message.

It is not a language model and says so, but it behaves like one on the wire: it emits emotion
tags, streams word by word with a small delay (so streaming and barge-in can be seen end to end),
and stops at once when its consumer is cancelled. The choice of template is a hash of the user's
message, so the same conversation gives the same reply.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import AsyncIterator

from pipeline.context import names_in
from pipeline.emotions import classify
from pipeline.events import Emotion
from pipeline.llm.base import ChatMessage

_CALLED_RE = re.compile(r"The user likes to be called ([^.\n]{1,60})\.")
_NO_BRACKETS = str.maketrans("", "", "[]")
_NOTE = (
    "I should be honest: I'm running as a simple offline responder, not a real language model, "
    "so I can only echo what you said."
)
_OPENERS: dict[Emotion, tuple[str, ...]] = {
    Emotion.sadness: ("[affection] I'm sorry you're going through that{you}.",),
    Emotion.fear: ("[affection] That sounds worrying{you}, and I'm here with you.",),
    Emotion.anger: ("[sadness:0.4] I can tell that really bothered you{you}.",),
    Emotion.joy: ("[joy] That's lovely to hear{you}!", "[joy] Oh, how wonderful{you}!"),
}
_DEFAULT_OPENERS = (
    "[joy] Hi{you}, it's {name}.",
    "[thinking] Hmm, let me think about that{you}.",
    "[joy:0.5] Thanks for telling me{you}.",
)


class PersonaResponder:
    name = "local"
    model = "persona-responder"  # what ReplyStarted.model says when it answers

    def __init__(self, word_delay_s: float = 0.03) -> None:
        self.word_delay_s = word_delay_s

    async def stream(self, messages: list[ChatMessage]) -> AsyncIterator[str]:
        words = self.reply_for(messages).split(" ")
        for index, word in enumerate(words):
            await asyncio.sleep(self.word_delay_s)  # a cancellation lands here, between words
            yield word if index == 0 else " " + word

    @staticmethod
    def reply_for(messages: list[ChatMessage]) -> str:
        system = "\n".join(m.content for m in messages if m.role == "system")
        last_user = next((m.content for m in reversed(messages) if m.role == "user"), "")
        persona_name = names_in(system)[0] or "your companion"
        called = m.group(1).strip() if (m := _CALLED_RE.search(system)) else ""
        seed = int.from_bytes(hashlib.sha256(last_user.encode()).digest()[:4], "big")

        emotion, _ = classify(last_user)
        openers = _OPENERS.get(emotion, _DEFAULT_OPENERS)
        opener = openers[seed % len(openers)].format(
            you=f", {called}" if called else "", name=persona_name
        )
        # Brackets are dropped so a user's "[anger]" is echoed as words, not obeyed as a tag.
        topic = " ".join(last_user.translate(_NO_BRACKETS).split()[:12]).rstrip(".!?")
        echo = f'You said: "{topic}".' if topic else "You haven't said anything yet."
        closer = (
            "[thinking] A real model could answer your question; one can be set up in settings."
            if "?" in last_user
            else "[joy:0.5] Tell me more?"
        )
        return f"{opener} {echo} [neutral] {_NOTE} {closer}"
