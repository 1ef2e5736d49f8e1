#!/usr/bin/env bash
# koe's test suite: lint, then every test, with virtual audio devices running.
#   scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."

started_audio=""
if ! scripts/virtual-audio.sh status 2>/dev/null && command -v pulseaudio >/dev/null; then
  scripts/virtual-audio.sh start >/dev/null
  started_audio=1
fi
trap '[ -n "$started_audio" ] && scripts/virtual-audio.sh stop' EXIT
command -v pulseaudio >/dev/null && eval "$(scripts/virtual-audio.sh env)"

python3 -m ruff check .
python3 -m pytest -q "$@"
