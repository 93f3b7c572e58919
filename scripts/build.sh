#!/usr/bin/env bash
# Build the packaged app and the Linux artifacts a person downloads (README "Packaged app"):
#   dist/IntentDesk/                              the one-folder app (PyInstaller, build.spec)
#   dist/IntentDesk-VERSION-linux-x86_64.tar.zst  extract anywhere, double-click IntentDesk.desktop
#   dist/intentdesk_VERSION_amd64.deb             installs into /opt/intentdesk, with a menu entry
# MODELS="DIR ..." bundles those model folders into the app (offline at once); the default has none.
# Cached: PyInstaller runs again only when what it reads changed (code, resources, spec, installed
# packages), the artifacts are packed again only when the app or MODELS changed. FRESH=1 rebuilds all
# from nothing (PyInstaller --clean). LEVEL=N sets the zstd level (default 9; 19 packs 12 % smaller, 37x slower).
# ARTIFACTS=0 stops after the folder.
set -euo pipefail
cd "$(dirname "$0")/.."
make setup >/dev/null
PY=.venv/bin/python
# PyInstaller is a build tool, not a dependency of the app: pinned here to the versions this spec is tested with.
PINS=(pyinstaller==6.22.3 pyinstaller-hooks-contrib==2026.9)
if ! $PY -c "import importlib.metadata as m, sys; sys.exit(any(m.version(p.split('==')[0]) != p.split('==')[1]
                for p in sys.argv[1:]))" "${PINS[@]}" 2>/dev/null; then
  $PY -m pip install -q "${PINS[@]}"
fi
mkdir -p build/pyinstaller dist
app=dist/IntentDesk
inputs=$({ git ls-files -co --exclude-standard -- intentdesk resources build.spec scripts/intentdesk_main.py \
           | LC_ALL=C sort | xargs -d '\n' sha256sum; $PY -m pip freeze --all 2>/dev/null; } | sha256sum | cut -c1-16)
stamp=build/pyinstaller/inputs.sha
clean=()
[ "${FRESH:-0}" = 1 ] && clean=(--clean) && rm -f "$stamp" build/artifacts.sha
if [ -x "$app/IntentDesk" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$inputs" ]; then
  echo "dist/IntentDesk is up to date (its inputs are unchanged): PyInstaller skipped"
else
  started=$(date +%s)
  rm -f "$stamp"
  $PY -m PyInstaller --noconfirm "${clean[@]}" --log-level WARN --distpath dist --workpath build/pyinstaller build.spec
  echo "$inputs" > "$stamp"
  echo "built dist/IntentDesk in $(( $(date +%s) - started )) s; size $(du -sh "$app" | cut -f1)"
fi
[ "${ARTIFACTS:-1}" = 0 ] && exit 0  # only the folder (what an app made for others copies)
# shellcheck disable=SC2206  # MODELS is a list of folders, split on spaces as make passes it
models=(${MODELS:-})
level=${LEVEL:-9}
packed=$({ echo "$inputs $level ${models[*]}"; [ ${#models[@]} -eq 0 ] || find "${models[@]}" -type f -printf '%p %s %T@\n'; } \
         | sha256sum | cut -c1-16)
artifacts=(dist/IntentDesk-*-linux-x86_64.tar.zst dist/intentdesk_*_amd64.deb)
if [ "$(cat build/artifacts.sha 2>/dev/null)" = "$packed" ] && [ -f "${artifacts[0]}" ] && [ -f "${artifacts[1]}" ]; then
  echo "artifacts are up to date: packing skipped"
  for file in "${artifacts[@]}"; do echo "artifact $file: $(( $(stat -c %s "$file") / 1000000 )) MB"; done
  exit 0
fi
rm -f build/artifacts.sha dist/IntentDesk-*-linux-x86_64.tar.zst dist/.IntentDesk-*.partial dist/intentdesk_*_amd64.deb
started=$(date +%s)
$PY -m intentdesk.core.packaging models "$app" "${models[@]}"
$PY -m intentdesk.core.packaging linux "$app" dist --level "$level"
echo "$packed" > build/artifacts.sha
echo "packed the artifacts in $(( $(date +%s) - started )) s"
