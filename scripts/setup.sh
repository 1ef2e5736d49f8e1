#!/usr/bin/env bash
# Install koe and everything it needs, on Debian or Ubuntu. Safe to run again.
#   scripts/setup.sh          system libraries (apt, needs root or sudo) + koe with dev tools
#   KOE_SKIP_APT=1 scripts/setup.sh    when the system libraries are already there
set -euo pipefail
cd "$(dirname "$0")/.."

# PortAudio for the microphone and speaker; PulseAudio for virtual devices in tests;
# espeak-ng to speak test phrases in other languages.
APT_PACKAGES=(libportaudio2 pulseaudio pulseaudio-utils libasound2-plugins espeak-ng)

if [ -z "${KOE_SKIP_APT:-}" ]; then
  missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

python3 -m pip install --disable-pip-version-check -q -e ".[dev,webrtc-audio]"
