"""WebRTC AEC3 engines, one 10 ms frame at a time: `process(near, far) -> cleaned near`.

Both run the same WebRTC audio processing module with the settings measured to work for
koe (MODELS.md): echo cancellation, noise suppression and the high-pass filter on, automatic
gain control off (it halves how much echo is removed early on). `livekit` is the default;
`pywebrtc-audio` is the fallback when livekit's native library cannot load.
"""

from __future__ import annotations

import atexit
import functools
from typing import Protocol

import numpy as np

from koe.voice.audio.files import SAMPLE_RATE

FRAME = SAMPLE_RATE // 100  # 10 ms: the only frame length the module takes


class Engine(Protocol):
    name: str

    def process(self, near: np.ndarray, far: np.ndarray) -> np.ndarray:
        """One FRAME of int16 microphone audio, cleaned of the echo of `far` (int16, FRAME)."""
        ...


class LivekitEngine:
    name = "livekit"

    def __init__(self) -> None:
        from livekit import rtc

        self._rtc = rtc
        self._apm = rtc.AudioProcessingModule(echo_cancellation=True, noise_suppression=True,
                                              high_pass_filter=True, auto_gain_control=False)
        _leave_livekit_undisposed_at_exit()

    def process(self, near: np.ndarray, far: np.ndarray) -> np.ndarray:
        # The module works in place on the frame's buffer: hand it writable copies.
        reverse = self._rtc.AudioFrame(bytearray(far.tobytes()), SAMPLE_RATE, 1, FRAME)
        self._apm.process_reverse_stream(reverse)
        frame = self._rtc.AudioFrame(bytearray(near.tobytes()), SAMPLE_RATE, 1, FRAME)
        self._apm.process_stream(frame)
        return np.frombuffer(frame.data, dtype=np.int16).copy()


@functools.cache  # one hook, however many engines
def _leave_livekit_undisposed_at_exit() -> None:
    """Keep livekit's exit hook from disposing its native server; the process is ending anyway.

    Disposing logs from one of the library's native worker threads through a callback into
    Python. When that callback is still waiting for the GIL once the interpreter finalizes,
    CPython ends the thread with pthread_exit, and the forced unwind through the library's
    `extern "C"` frame aborts the whole process (SIGABRT, after koe has done its work).
    Registered after livekit's own hook, so it runs first (atexit is last in, first out).
    """
    from livekit.rtc._ffi_client import FfiClient

    def mark_disposed() -> None:
        FfiClient._ffi_disposed = True

    atexit.register(mark_disposed)


class WebrtcAudioEngine:
    name = "webrtc-audio"

    def __init__(self) -> None:
        from pywebrtc_audio import AudioProcessor

        self._processor = AudioProcessor(sample_rate=SAMPLE_RATE, num_channels=1,
                                         echo_cancellation=True, noise_suppression=True,
                                         high_pass_filter=True, auto_gain_control=False)

    def process(self, near: np.ndarray, far: np.ndarray) -> np.ndarray:
        return np.asarray(self._processor.process(near, far), dtype=np.int16)
