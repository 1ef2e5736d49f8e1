#!/usr/bin/env bash
# koe's test suite: lint, then every test, with virtual audio devices running.
#   scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."

# Virtual sound devices of this run's own (its own folder: another run stopping its server
# must not take ours away), for tests that use the default devices.
if command -v pulseaudio >/dev/null; then
  export PA_ROOT="$(mktemp -d /tmp/koe-pa.XXXXXX)"
  scripts/virtual-audio.sh start >/dev/null
  trap 'scripts/virtual-audio.sh stop; rm -rf "$PA_ROOT"' EXIT
  eval "$(scripts/virtual-audio.sh env)"
fi

python3 -m ruff check .
python3 -m pytest -q "$@"
