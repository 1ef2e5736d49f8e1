"""Turn-taking as pure state machines (no I/O): VAD framing, endpointing, barge-in, wake phrase.

`Segmenter` is the one the voice loop uses: raw 16 kHz int16 PCM in, `TurnEvent`s out.
Underneath: `pcm` (format, input checks, a position-addressed buffer), `highpass` (the rumble
filter the detector listens through), `vad` (webrtcvad frames), `thresholds` (seconds from
`[listen]`), `endpointer` (the state machine on is_speech flags), `events`.
Beside it, policies the loop applies: `barge_in` (is the user talking over koe?) and `wake`
(does an utterance begin with the wake phrase, or fall in the follow-up window?).
"""
