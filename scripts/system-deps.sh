#!/usr/bin/env bash
# System libraries that the Python wheels expect: Qt's platform plugins (EGL/GL, fontconfig,
# xkbcommon, xcb), PortAudio for the microphone. Debian/Ubuntu only; elsewhere it does nothing.
set -euo pipefail
command -v apt-get >/dev/null 2>&1 || { echo "system-deps: no apt-get, skipping (install Qt 6 runtime libs and PortAudio yourself)"; exit 0; }
packages=(libegl1 libgl1 libglib2.0-0 libdbus-1-3 libfontconfig1 libxkbcommon0 libxkbcommon-x11-0
          libx11-xcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
          libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libportaudio2)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
