"""Strip what a small model leaks into its reply, on the stream.

SmolLM2-135M sometimes writes chat-template tokens (``<|im_start|>assistant``, ``<|im_end|>``),
speaker labels ("Assistant:", "Nova:") or goes on to write the person's next line ("User: ...",
"Ada: ...").
Labels and stray template tokens are dropped; the end of a turn or the person's line ends the
reply there. Markers may be split across deltas, so text that could still become one is held
back (with trailing whitespace) until the next delta tells, which costs at most a word of delay.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable

_STOP = (
    r"<\|im_start\|>\s*(?:user|system)\b"
    r"|<\|im_end\|>|<\|endoftext\|>"
    r"|(?:^|(?<=\s))(?:{people})\s?:"
)
_TEMPLATE_LITERALS = (
    "<|im_start|>assistant",
    "<|im_start|>user",
    "<|im_start|>system",
    "<|im_end|>",
    "<|endoftext|>",
)


class LeakFilter:
    """``feed`` each delta and send what it returns; ``finish`` at the end. Once ``stopped``,
    the model's further output is the person's line or another turn: stop reading it."""

    def __init__(self, speaker_names: Iterable[str] = (), user_names: Iterable[str] = ()) -> None:
        labels = ["assistant", "ai", *(n.strip() for n in speaker_names if n.strip())]
        label = "|".join(re.escape(n) for n in labels)
        people = ["user", "human", *(n.strip() for n in user_names if n.strip())]
        stop = _STOP.format(people="|".join(re.escape(n) for n in people))
        strip = (
            r"<\|im_start\|>(?:\s*assistant\b)?(?![a-z])\s*"  # a stray token, or the reply's own
            rf"|(?:^|(?<=\n))[ \t]*(?:{label})[ \t]*:\s*"  # "Nova:" opening a line
        )
        self._pattern = re.compile(rf"(?P<stop>{stop})|(?P<strip>{strip})", re.IGNORECASE)
        self._literals = (
            *_TEMPLATE_LITERALS,
            "user :",
            *(f"{n.lower()}:" for n in (*people, *labels)),
        )
        self._longest = max(len(x) for x in self._literals)
        self._text = ""
        self._pos = 0  # everything before it has been sent or dropped
        self._sent_any = False
        self.stopped = False

    def feed(self, delta: str) -> str:
        if self.stopped:
            return ""
        self._text += delta
        return self._drain(final=False)

    def finish(self) -> str:
        return "" if self.stopped else self._drain(final=True)

    def _drain(self, *, final: bool) -> str:
        out: list[str] = []
        end = len(self._text)
        while (m := self._pattern.search(self._text, self._pos)) is not None:
            if not final and m.end() == len(self._text):
                end = m.start()  # it may go on in the next delta ("Nova:" + " " + "Hi")
                break
            out.append(self._text[self._pos : m.start()])
            self._pos = m.end()
            if m.group("stop") is not None:
                self.stopped = True
                return self._emit("".join(out).rstrip())
        if not final:
            end = min(end, self._safe_end())
        out.append(self._text[self._pos : end])
        self._pos = end
        text = "".join(out)
        return self._emit(text.rstrip() if final else text)

    def _safe_end(self) -> int:
        """Where text stops being certain: before a possible marker's beginning, or before
        trailing whitespace (a marker may follow it)."""
        text, start = self._text, max(self._pos, len(self._text) - self._longest)
        end = len(text)
        for p in range(start, len(text)):
            tail = text[p:].lower()
            word_start = p == 0 or text[p - 1].isspace()
            if any(
                lit.startswith(tail) and (lit[0] == "<" or word_start) for lit in self._literals
            ):
                end = p
                break
        while end > self._pos and text[end - 1].isspace():
            end -= 1
        return end

    def _emit(self, text: str) -> str:
        if not self._sent_any:
            text = text.lstrip()
            self._sent_any = bool(text)
        return text


async def without_leaks(
    fragments: AsyncIterator[str], speaker_names: Iterable[str] = (), user_names: Iterable[str] = ()
) -> AsyncIterator[str]:
    """``fragments`` with leaks stripped; stops reading (and closes it) at the end of a turn."""
    leaks = LeakFilter(speaker_names, user_names)
    try:
        async for fragment in fragments:
            if text := leaks.feed(fragment):
                yield text
            if leaks.stopped:
                return
        if text := leaks.finish():
            yield text
    finally:
        aclose = getattr(fragments, "aclose", None)
        if aclose is not None:
            await aclose()
