#!/usr/bin/env bash
# Every check Passdesk has: formatting, clippy, then all unit and end-to-end tests on real
# SQLite files and the real binary. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/toolchain.sh
. scripts/lib/apt.sh
. scripts/lib/pcscd.sh   # pcscd and vpcd for the NFC tests
. scripts/lib/python.sh
. scripts/lib/ui.sh   # chromium; npm install + build of ui/ (before cargo embeds ui/dist)
. scripts/lib/tauri.sh
# The desktop app (src-tauri) is checked, built and tested with the rest (--workspace): its
# WebKitGTK build packages, and Xvfb + WebKitWebDriver for its window test.
passdesk_tauri_build_deps
passdesk_tauri_test_deps

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# The decoders and the service also build without the camera (feature `camera`, nokhwa).
cargo clippy -p passdesk --no-default-features --locked -- -D warnings
# The end-to-end tests run target/debug/passdesk: build it first.
cargo build --workspace --locked
passdesk_reserve_vpcd_ports
passdesk_hold_pcscd
cargo test --workspace --locked
# The screens in a real browser against the real binary (ui/e2e, playwright-core + chromium).
passdesk_ui_test
# The real desktop window (target/debug/passdesk-app) under Xvfb, driven by WebKitWebDriver.
passdesk_app_test
