"""The server's voice activity detection on streamed PCM: speech is believed after a short
voiced stretch, a turn ends after the configured silence, clicks and coughs are no speech, and
the answer does not depend on how the stream was cut into chunks."""

from __future__ import annotations

from pipeline.vad import EnergyVad, SpeechStart, TurnEnd, VadConfig, VadEvent
from tests.realtime.voice_client import noise, silence, speech_pcm


def run(pcm: bytes, chunk_bytes: int = 3200, config: VadConfig | None = None) -> list[VadEvent]:
    vad = EnergyVad(config)
    events: list[VadEvent] = []
    for i in range(0, len(pcm), chunk_bytes):
        events += vad.feed(pcm[i : i + chunk_bytes])
    return events


def test_a_sentence_starts_once_and_ends_after_the_silence() -> None:
    events = run(silence(500) + speech_pcm() + silence(1000))
    start, end = events
    assert isinstance(start, SpeechStart) and 480 <= start.at_ms <= 560
    assert isinstance(end, TurnEnd) and end.start_ms == start.at_ms
    speech_ms = len(speech_pcm()) // 32
    assert abs((end.end_ms - 500) - speech_ms) <= 200  # its last word, within a few frames
    assert end.voiced_ms >= speech_ms // 2


def test_the_silence_that_ends_a_turn_is_configurable() -> None:
    pcm = silence(300) + speech_pcm() + silence(700) + speech_pcm() + silence(1500)
    assert len([e for e in run(pcm) if isinstance(e, TurnEnd)]) == 2  # 500 ms: two turns
    patient = VadConfig(end_silence_ms=900)
    assert len([e for e in run(pcm, config=patient) if isinstance(e, TurnEnd)]) == 1


def test_a_click_is_not_speech_but_a_cough_length_burst_can_start_it() -> None:
    assert run(silence(300) + noise(60) + silence(800)) == []
    events = run(silence(300) + noise(250) + silence(800))
    assert [type(e) for e in events] == [SpeechStart, TurnEnd]
    assert isinstance(events[1], TurnEnd) and events[1].voiced_ms <= 260


def test_chunk_sizes_do_not_change_what_is_heard() -> None:
    pcm = silence(400) + speech_pcm() + silence(900)
    assert run(pcm, 3200) == run(pcm, 998) == run(pcm, 16000)


def test_a_turn_still_open_ends_when_the_stream_does() -> None:
    vad = EnergyVad()
    assert [type(e) for e in vad.feed(silence(200) + speech_pcm())] == [SpeechStart]
    assert isinstance(vad.flush(), TurnEnd)
    assert vad.flush() is None
