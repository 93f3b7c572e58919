#!/usr/bin/env bash
# Smoke test of what a person downloads (scripts/build.sh's artifacts), as a new user gets it: the
# .tar.zst extracted into an empty folder and run with an empty HOME and no venv on PATH (its
# --self-test trains and classifies; its window shows under Xvfb, timed, and stays up without a
# traceback; its menu script writes an entry), and the .deb's files, control and libraries checked.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v xvfb-run >/dev/null || need+=(xvfb xauth)
command -v xdotool >/dev/null || need+=(xdotool)
command -v zstd >/dev/null || need+=(zstd)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
scripts/build.sh
tarball=$(ls dist/IntentDesk-*-linux-x86_64.tar.zst)
deb=$(ls dist/intentdesk_*_amd64.deb)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/home" "$work/x"
tar -xf "$tarball" -C "$work/x"
top=$(ls -d "$work"/x/IntentDesk-*-linux-x86_64)
clean_env=(env -i "HOME=$work/home" PATH=/usr/bin:/bin HF_HUB_OFFLINE=1)

echo "== self-test of the extracted artifact (empty HOME)"
"${clean_env[@]}" "$top/IntentDesk/IntentDesk" --self-test | tee "$work/self-test.log"
grep -q "self-test OK" "$work/self-test.log"

echo "== its window under Xvfb (empty HOME)"
"${clean_env[@]}" xvfb-run -a scripts/window_time.sh "$top/IntentDesk/IntentDesk" 10

echo "== its menu entry"
"${clean_env[@]}" sh "$top/install-desktop-entry.sh"
grep -q "^Exec=\"$top/IntentDesk/IntentDesk\"" "$work/home/.local/share/applications/intentdesk.desktop"

echo "== the .deb"
listing=$(dpkg-deb --contents "$deb")
for path in ./opt/intentdesk/IntentDesk ./usr/bin/intentdesk ./usr/share/applications/intentdesk.desktop \
            ./usr/share/icons/hicolor/256x256/apps/intentdesk.png; do
  grep -q " $path\$" <<<"$listing" || { echo "$deb lacks $path"; exit 1; }
done
dpkg-deb -f "$deb" Depends | grep -q libxcb-cursor0
dpkg-deb -x "$deb" "$work/root"
qxcb=$(find "$work/root/opt/intentdesk" -name libqxcb.so | head -1)
if ldd "$qxcb" | grep "not found"; then echo "Qt's xcb platform needs libraries this system lacks"; exit 1; fi
"${clean_env[@]}" "$work/root/opt/intentdesk/IntentDesk" --help >/dev/null
echo "smoke test passed: $tarball ($(( $(stat -c %s "$tarball") / 1000000 )) MB), $deb ($(( $(stat -c %s "$deb") / 1000000 )) MB)"
