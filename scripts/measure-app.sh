#!/usr/bin/env bash
# Measures the desktop app (not a test: it prints numbers): time from process start to first
# paint, resident memory of the app and its WebKit processes at idle and after 10,000 scans
# posted through the API, and the UI bundle size. Release build, under Xvfb (or your display
# with PASSDESK_MEASURE_ON_DISPLAY=1). Method: src-tauri/e2e/measure.py.
#   bash scripts/measure-app.sh [--scans N] [--settle SECS]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/toolchain.sh
. scripts/lib/apt.sh
. scripts/lib/ui.sh
. scripts/lib/tauri.sh
passdesk_tauri_build_deps
passdesk_tauri_test_deps

cargo build --release --locked -p passdesk
cargo build --release --locked -p passdesk-app --features custom-protocol
run() { dbus-run-session -- python3 src-tauri/e2e/measure.py "$@"; }
if [ "${PASSDESK_MEASURE_ON_DISPLAY:-}" = 1 ]; then
  run "$@"
else
  # A fresh X server of the size of a counter screen; no window manager, no compositor.
  xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" bash -c "$(declare -f run); run \"\$@\"" _ "$@"
fi
