"""WebRTC AEC3 engines, one 10 ms frame at a time: `process(near, far) -> cleaned near`.

Both run the same WebRTC audio processing module with the settings measured to work for
koe (MODELS.md): echo cancellation, noise suppression and the high-pass filter on, automatic
gain control off (it halves how much echo is removed early on). `livekit` is the default;
`pywebrtc-audio` is the fallback when livekit's native library cannot load.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import threading
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
        _keep_livekits_threads_out_of_python()

    def process(self, near: np.ndarray, far: np.ndarray) -> np.ndarray:
        # The module works in place on the frame's buffer: hand it writable copies.
        reverse = self._rtc.AudioFrame(bytearray(far.tobytes()), SAMPLE_RATE, 1, FRAME)
        self._apm.process_reverse_stream(reverse)
        frame = self._rtc.AudioFrame(bytearray(near.tobytes()), SAMPLE_RATE, 1, FRAME)
        self._apm.process_stream(frame)
        return np.frombuffer(frame.data, dtype=np.int16).copy()


@functools.cache  # once per process: the first engine starts livekit's native server
def _keep_livekits_threads_out_of_python() -> None:
    """Stop livekit handing its native log records to Python, once those already sent arrived.

    livekit forwards every native log record into Python from one of its worker threads. A
    record still waiting for the GIL when the interpreter finalizes ends that thread with
    pthread_exit, and the forced unwind through the library's `extern "C"` frame aborts the
    whole process (SIGABRT after koe has done its work, e.g. when `koe run` fails just after
    opening its audio, or when livekit's exit hook logs that it is disposing). So koe sends a
    marker record, the library's complaint about an unreadable request, which arrives after
    every record sent before it, then starts the server again without log capture: its records
    go to stderr as RUST_LOG filters them (errors only by default), never through Python.
    """
    from livekit.rtc._ffi_client import FfiClient, ffi_event_callback
    from livekit.rtc.version import __version__

    try:
        library = FfiClient.instance._ffi_lib
    except AttributeError as exc:  # not the client this was written for: use the fallback
        raise ImportError(f"livekit {__version__}: cannot turn its log capture off") from exc
    arrived = threading.Event()

    def swallow_marker(record: logging.LogRecord) -> bool:
        if _MARKER in record.getMessage():
            arrived.set()
            return False
        return True

    logger = logging.getLogger("livekit")  # where livekit's Python side logs native records
    logger.addFilter(swallow_marker)
    try:
        unreadable = (ctypes.c_ubyte * 1)(0xFF)  # a truncated protobuf varint
        answer, length = ctypes.POINTER(ctypes.c_ubyte)(), ctypes.c_size_t()
        library.livekit_ffi_request(unreadable, 1, ctypes.byref(answer), ctypes.byref(length))
        arrived.wait(_MARKER_DEADLINE_SECONDS)
    finally:
        logger.removeFilter(swallow_marker)
    library.livekit_ffi_initialize(ffi_event_callback, False, b"python", __version__.encode())


_MARKER = "failed to decode request"
_MARKER_DEADLINE_SECONDS = 2.0  # normally a millisecond; past it, koe goes on regardless


class WebrtcAudioEngine:
    name = "webrtc-audio"

    def __init__(self) -> None:
        from pywebrtc_audio import AudioProcessor

        self._processor = AudioProcessor(sample_rate=SAMPLE_RATE, num_channels=1,
                                         echo_cancellation=True, noise_suppression=True,
                                         high_pass_filter=True, auto_gain_control=False)

    def process(self, near: np.ndarray, far: np.ndarray) -> np.ndarray:
        return np.asarray(self._processor.process(near, far), dtype=np.int16)
