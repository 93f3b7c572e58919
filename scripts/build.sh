#!/usr/bin/env bash
# Build the one-folder app into dist/IntentDesk with PyInstaller (from build.spec).
# Uses .venv (made by `make venv`) and installs PyInstaller into it. Prints size and time.
set -euo pipefail
cd "$(dirname "$0")/.."
make setup >/dev/null
.venv/bin/pip install -q "pyinstaller>=6.10" "pyinstaller-hooks-contrib>=2024.8"
started=$(date +%s)
.venv/bin/pyinstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build/pyinstaller build.spec
seconds=$(( $(date +%s) - started ))
echo "built dist/IntentDesk in ${seconds} s; size $(du -sh dist/IntentDesk | cut -f1)"
