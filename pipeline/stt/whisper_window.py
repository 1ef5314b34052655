"""The one place that shapes what faster-whisper's encoder sees (see
:func:`pipeline.stt.whisper_stt.window_frames` for the window chosen and why).

faster-whisper pads every window to Whisper's 30 s (3,000 mel frames) before calling
:meth:`WhisperModel.encode`, and the encoder's cost follows the frames it is given: measured
here on one thread, 875 ms of CPU for 3,000 frames, 111 ms for 1,000, 32 ms for 400. CTranslate2's
Whisper encodes a shorter window as it is, so this subclass cuts the padded features before
encoding. ``encode`` is faster-whisper's public method (``generate_segments`` calls it for every
window); ``tests/pipeline/test_stt_whisper.py`` fails if a release stops passing the padded
window through it, or stops accepting the cut one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from faster_whisper import WhisperModel


class WindowedWhisperModel(WhisperModel):  # type: ignore[misc]  # faster-whisper is untyped
    """A :class:`WhisperModel` that encodes at most ``frames`` of each window (0: all)."""

    frames: int = 0
    last_encoded_frames: int = 0  # what the encoder last saw

    def encode(self, features: np.ndarray[Any, Any]) -> Any:
        if self.frames and features.shape[-1] > self.frames:
            features = features[..., : self.frames]
        self.last_encoded_frames = int(features.shape[-1])
        return super().encode(features)
