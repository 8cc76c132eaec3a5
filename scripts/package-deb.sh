#!/usr/bin/env bash
# Builds the Debian package of the desktop app with the Tauri CLI from npm:
#   target/release/bundle/deb/passdesk-app_<version>_amd64.deb
# It holds /usr/bin/passdesk-app (the service in-process + the window), /usr/bin/passdesk (the
# CLI: keys, import, `serve` for headless use), the kiosk session and systemd units, and an
# example passdesk.toml in /usr/share/passdesk/. Depends on libwebkit2gtk-4.1-0 and libgtk-3-0.
# Cold: a release build of the app (minutes); warm: seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/toolchain.sh
. scripts/lib/apt.sh
. scripts/lib/ui.sh      # ui/dist, embedded in both binaries
. scripts/lib/tauri.sh
passdesk_tauri_build_deps
passdesk_tauri_cli

# A package ships stripped binaries (the release profile keeps line tables for backtraces and
# profiles: 270 MB of binaries and a 60 MB .deb otherwise). Cargo's profile settings from the
# environment: the other builds are untouched, this one rebuilds once.
export CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_STRIP=true
cargo build --release --locked -p passdesk   # the CLI the package ships beside the app
(cd src-tauri && npx --no-install tauri build --bundles deb -- --locked)
ls -l target/release/bundle/deb/*.deb
