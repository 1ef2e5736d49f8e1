"""Echo cancellation for barge-in: koe keeps listening while it speaks, without hearing itself.

- `farend`: what the speaker played, on the microphone's timeline (the canceller's reference)
- `tap`: how a device speaker puts what it plays there (the input clock from `sync()`)
- `engines`, `canceller`: WebRTC AEC3 (livekit, or pywebrtc-audio) over 10 ms frames
- `room`: file mode's echo (`--echo DELAY_MS,GAIN`)
- `measure`, `probe`: echo delay, return loss and ERLE; `koe doctor --echo`
"""
