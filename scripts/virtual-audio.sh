#!/usr/bin/env bash
# Real audio devices on a computer with no sound card (CI, servers, containers), for koe's
# end-to-end tests and for trying koe without a headset.
#   scripts/virtual-audio.sh start    start a private PulseAudio server with
#       vspk        null sink, the default output: koe plays here; tests record vspk.monitor
#       vmic_feed   null sink: tests play "into the microphone" here
#       vmic        remap of vmic_feed.monitor, the default input: koe records here
#   scripts/virtual-audio.sh stop     stop what start started
#   scripts/virtual-audio.sh env      print what a client must export BEFORE importing sounddevice:
#                                     PULSE_SERVER, so PortAudio's "default"/"pulse" devices land here,
#                                     and ALSA_CONFIG_PATH, which adds one named PortAudio device per
#                                     sink/source: vspk, vspk_monitor, vmic, vmic_feed
#   scripts/virtual-audio.sh status   exit 0 when the server answers
#   scripts/virtual-audio.sh echo [DELAY_MS] [GAIN]
#                                     koe hears itself, as in a room: a loopback from vspk.monitor
#                                     into vmic_feed, DELAY_MS later (default 100) and GAIN times as
#                                     loud (amplitude, default 0.5); again to change it
#   scripts/virtual-audio.sh echo off remove that loopback
# Needs the Debian packages pulseaudio pulseaudio-utils libasound2-plugins libportaudio2.
set -euo pipefail
PA_ROOT=${PA_ROOT:-${TMPDIR:-/tmp}/koe-virtual-audio}
# The server keeps its state under PA_ROOT, never in the user's own home.
export HOME="$PA_ROOT/home" XDG_RUNTIME_DIR="$PA_ROOT/run"
# pactl/parec here talk to this server only, whichever one the caller's environment names.
unset PULSE_SERVER PULSE_SINK PULSE_SOURCE
SOCKET="$XDG_RUNTIME_DIR/pulse/native"
ALSA_CONF=${ALSA_CONF:-/usr/share/alsa/alsa.conf}   # the system's top-level ALSA configuration
DEVICES_CONF="$PA_ROOT/asound.conf"

start() {
  for tool in pulseaudio pactl parec; do
    command -v "$tool" >/dev/null || {
      echo "virtual-audio: $tool not found; apt-get install pulseaudio pulseaudio-utils" >&2
      exit 1
    }
  done
  mkdir -p "$HOME" "$XDG_RUNTIME_DIR"; chmod 700 "$XDG_RUNTIME_DIR"
  # Named ALSA devices, so PortAudio can open each sink/source by name (read through
  # ALSA_CONFIG_PATH, see env; the user's own ~/.asoundrc is left alone).
  cat > "$DEVICES_CONF" <<'ASOUND'
pcm.vspk         { type pulse; device "vspk" }
pcm.vspk_monitor { type pulse; device "vspk.monitor" }
pcm.vmic         { type pulse; device "vmic" }
pcm.vmic_feed    { type pulse; device "vmic_feed" }
ASOUND
  if pactl info >/dev/null 2>&1; then echo "virtual-audio: already running"; return; fi
  pulseaudio -D -n --exit-idle-time=-1 --disallow-exit --log-target=file:"$PA_ROOT/pulse.log" \
    --load="module-native-protocol-unix auth-anonymous=1" \
    --load="module-null-sink sink_name=vspk rate=48000 channels=2" \
    --load="module-null-sink sink_name=vmic_feed rate=16000 channels=1" \
    --load="module-remap-source master=vmic_feed.monitor source_name=vmic"
  for _ in $(seq 50); do pactl info >/dev/null 2>&1 && break; sleep 0.1; done
  pactl info >/dev/null 2>&1 || { echo "virtual-audio: server did not start; see $PA_ROOT/pulse.log" >&2; exit 1; }
  pactl set-default-sink vspk
  pactl set-default-source vmic
  # A null sink renders in 2 s blocks unless a client asks for low latency: a permanent 10 ms
  # recorder on each monitor keeps new streams starting within ~40 ms.
  for mon in vspk.monitor vmic_feed.monitor; do
    setsid parec --latency-msec=10 --device="$mon" --raw >/dev/null 2>>"$PA_ROOT/keepalive.log" &
    echo $! >> "$PA_ROOT/keepalive.pids"
  done
  sleep 2.5   # let the first 2 s render block pass
  echo "virtual-audio: running; before starting a client run: eval \"\$($0 env)\""
}

stop() {
  rm -f "$PA_ROOT/echo.module"
  if [ -f "$PA_ROOT/keepalive.pids" ]; then
    kill $(cat "$PA_ROOT/keepalive.pids") 2>/dev/null || true
    rm -f "$PA_ROOT/keepalive.pids"
  fi
  pulseaudio --kill 2>/dev/null || true
}

echo_on() {
  local delay=${1:-100} gain=${2:-0.5}
  [[ $delay =~ ^[0-9]+$ ]] && (( delay >= 1 && delay <= 2000 )) || {
    echo "virtual-audio: echo delay '$delay' must be whole milliseconds, 1-2000" >&2; exit 2; }
  awk -v g="$gain" 'BEGIN { exit !(g ~ /^[0-9]*\.?[0-9]+$/ && g > 0 && g <= 4) }' || {
    echo "virtual-audio: echo gain '$gain' must be a number above 0, up to 4" >&2; exit 2; }
  pactl info >/dev/null 2>&1 || { echo "virtual-audio: not running; start it first" >&2; exit 1; }
  echo_off
  # Mono at the microphone's rate. adjust_time=0: no rate adjustments, whose corrections
  # moved the delay by 10-70 ms in mid-sentence (a room's delay holds still; both null sinks
  # run on the one system clock, so it does not drift either).
  local module
  module=$(pactl load-module module-loopback source=vspk.monitor sink=vmic_feed \
    latency_msec="$delay" adjust_time=0 channels=1 rate=16000 \
    source_dont_move=true sink_dont_move=true sink_input_properties=media.name=koe-echo source_output_properties=media.name=koe-echo)
  echo "$module" > "$PA_ROOT/echo.module"
  local input=""
  for _ in $(seq 50); do
    input=$(LC_ALL=C pactl list sink-inputs | awk -v m="$module" \
      '/^Sink Input #/ { id = substr($3, 2) } /Owner Module:/ && $3 == m { print id; exit }')
    [ -n "$input" ] && break; sleep 0.1
  done
  [ -n "$input" ] || { echo "virtual-audio: the echo loopback has no sink input" >&2; exit 1; }
  # An amplitude gain, in dB: the server maps dB exactly (a percentage is a cubic curve).
  pactl set-sink-input-volume "$input" "$(awk -v g="$gain" 'BEGIN { printf "%.2fdB", 20 * log(g) / log(10) }')"
  echo "virtual-audio: echo on, ${delay} ms, gain $gain"
}

echo_off() {
  if [ -f "$PA_ROOT/echo.module" ]; then
    pactl unload-module "$(cat "$PA_ROOT/echo.module")" 2>/dev/null || true
    rm -f "$PA_ROOT/echo.module"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env)
    echo "export PULSE_SERVER=unix:$SOCKET"
    if [ -f "$ALSA_CONF" ]; then echo "export ALSA_CONFIG_PATH=$ALSA_CONF:$DEVICES_CONF"; fi
    ;;
  status) pactl info >/dev/null 2>&1 ;;
  echo)
    if [ "${2:-}" = off ]; then echo_off; else echo_on "${2:-100}" "${3:-0.5}"; fi
    ;;
  *) echo "usage: $0 start|stop|env|status|echo [DELAY_MS] [GAIN]|echo off" >&2; exit 2 ;;
esac
