#!/usr/bin/env bash
# How long the packaged app takes to show its window: seconds from starting EXE until a visible window
# named IntentDesk is mapped (xdotool), under a fresh virtual screen. Prints "window after N.NN s", then
# leaves the app running SECONDS more (default 10) and fails on an early exit or a traceback.
#   scripts/window_time.sh EXE [SECONDS]   (run it inside xvfb-run; the caller chooses HOME and PATH)
set -euo pipefail
exe=$1
keep=${2:-10}
log=$(mktemp)
started=$(date +%s.%N)
"$exe" >"$log" 2>&1 &
pid=$!
if ! timeout 60 xdotool search --sync --onlyvisible --name '^IntentDesk' >/dev/null; then
  cat "$log"; kill "$pid" 2>/dev/null || true; echo "no IntentDesk window within 60 s"; exit 1
fi
shown=$(date +%s.%N)
awk -v a="$started" -v b="$shown" 'BEGIN { printf "window after %.2f s\n", b - a }'
sleep "$keep"
if ! kill -0 "$pid" 2>/dev/null; then cat "$log"; echo "the app exited early"; exit 1; fi
kill "$pid"
wait "$pid" 2>/dev/null || true
cat "$log"
if grep -q "Traceback" "$log"; then echo "traceback in the app's output"; exit 1; fi
