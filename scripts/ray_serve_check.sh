#!/usr/bin/env bash
# End-to-end check of `intentdesk export-serve` on a local Ray instance:
#   scripts/ray_serve_check.sh MODEL_DIR CLIP.wav
# Exports MODEL_DIR, starts it with `serve run`, posts CLIP.wav and a non-audio body, and fails
# unless the top intent equals `intentdesk classify`'s and the bad body gets a 400.
# Ray goes into its own venv (.venv-ray, seeing .venv's packages), so the app's venv and its
# PyInstaller build stay as they are. Not part of CI: it starts a Ray cluster (~30 s).
set -euo pipefail
cd "$(dirname "$0")/.."
model=$(realpath "$1"); clip=$(realpath "$2")
make setup >/dev/null
if [ ! -x .venv-ray/bin/serve ]; then
  python3 -m venv .venv-ray
  site=$(.venv-ray/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
  # addsitedir (not a bare path) so that .venv's own .pth files, the editable install among them, apply too
  .venv/bin/python -c "import sysconfig; print(f\"import site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\")" \
    > "$site/intentdesk-app.pth"
  .venv-ray/bin/pip install -q "ray[serve]>=2.30"
fi
work=$(mktemp -d)
cleanup() { pkill -f "serve run serve_config.yaml" || true; .venv-ray/bin/ray stop --force >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
.venv/bin/intentdesk export-serve "$model" "$work/app" --max-batch 8
root=$PWD
(cd "$work/app" && HF_HUB_OFFLINE=1 RAY_USAGE_STATS_ENABLED=0 "$root/.venv-ray/bin/serve" run serve_config.yaml \
  >"$work/serve.log" 2>&1 &)
for _ in $(seq 1 60); do
  curl -sf -m 3 http://127.0.0.1:8000/health >/dev/null && break
  sleep 3
done
curl -sf -m 3 http://127.0.0.1:8000/health >/dev/null || { tail -30 "$work/serve.log"; echo "Ray app did not come up"; exit 1; }
served=$(curl -s --data-binary @"$clip" "http://127.0.0.1:8000/classify?top_k=1" | .venv/bin/python -c \
  "import json,sys; print(json.load(sys.stdin)['ranking'][0]['label'])")
local=$(.venv/bin/intentdesk classify "$model" "$clip" --json --top-k 1 | .venv/bin/python -c \
  "import json,sys; print(json.load(sys.stdin)[0]['ranking'][0]['label'])")
status=$(curl -s -o /dev/null -w "%{http_code}" --data-binary "not audio" http://127.0.0.1:8000/classify)
echo "Ray Serve: top intent '$served' (intentdesk classify: '$local'); non-audio body -> HTTP $status"
[ "$served" = "$local" ] && [ "$status" = 400 ] || { echo "Ray Serve check FAILED"; exit 1; }
echo "Ray Serve check passed"
