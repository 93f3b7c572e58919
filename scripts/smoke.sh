#!/usr/bin/env bash
# Smoke test of the packaged app: build it, run its --self-test, start the GUI under Xvfb for a
# few seconds; fails on a non-zero exit or any Python traceback.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v xvfb-run >/dev/null; then  # a virtual screen for the GUI check
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends xvfb xauth
fi
scripts/build.sh
app=dist/IntentDesk/IntentDesk
log=$(mktemp)
HF_HUB_OFFLINE=1 "$app" --self-test | tee "$log"
grep -q "self-test OK" "$log"
export INTENTDESK_HOME=$(mktemp -d)
set +e
HF_HUB_OFFLINE=1 timeout 12 xvfb-run -a "$app" >"$log" 2>&1
status=$?
set -e
cat "$log"
if [ "$status" != 124 ]; then echo "GUI exited early with status $status"; exit 1; fi
if grep -q "Traceback" "$log"; then echo "traceback in GUI output"; exit 1; fi
echo "smoke test passed"
