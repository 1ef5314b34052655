"""What every client must see of a reply: the checks shared by the JS client tests.

The node scripts print a summary (tests/clients/live.mjs ``summarize``): typenames in order,
parallel ``seqs`` and ``cursors``, the text deltas, the final text and the audio chunks.
"""

from __future__ import annotations

from typing import Any

import httpx

TERMINAL = {"ReplyCompleted", "ReplyInterrupted", "ReplyFailed"}


def assert_whole_reply(summary: dict[str, Any], sent: str) -> None:
    kinds: list[str] = summary["events"]
    assert kinds[:2] == ["MessagePosted", "ReplyStarted"], kinds[:5]
    assert summary["posted"] == sent
    assert kinds[-1] == "ReplyCompleted", kinds[-5:]
    assert not TERMINAL & set(kinds[:-1]), "one terminal event, at the end"
    assert len(set(summary["cursors"])) == len(kinds), "no event twice"
    assert summary["text"] and "".join(summary["deltas"]) == summary["text"]
    chunks = [i for i, kind in enumerate(kinds) if kind == "AudioChunk"]
    assert chunks, "the reply is spoken"
    for index in chunks:
        seq = summary["seqs"][index]
        before = [
            i for i in range(index) if kinds[i] == "VisemeFrames" and summary["seqs"][i] == seq
        ]
        assert len(before) == 1, f"chunk {seq}: its mouth track arrives once, before the chunk"
    audio = httpx.get(summary["chunks"][0]["url"], timeout=10)
    assert audio.status_code == 200 and audio.content[:4] == b"RIFF", "the client's URL plays"
