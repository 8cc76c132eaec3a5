# Sourced (after scripts/lib/apt.sh) by the scripts that build, test or measure the desktop app
# (src-tauri/). Installs, only when missing, what ../shared/TAURI.md measured a Tauri v2 app needs on Debian bookworm:
#   build: libwebkit2gtk-4.1-dev (the webview), libssl-dev, libayatana-appindicator3-dev (the
#     tray icon; libappindicator3-dev does not exist on bookworm), librsvg2-dev, libxdo-dev,
#     pkg-config, build-essential, file (the .deb bundler);
#   tests: xvfb + xauth (a display), webkit2gtk-driver (WebKitWebDriver), dbus-x11
#     (dbus-run-session: the single-instance plugin needs a session bus),
#     matchbox-window-manager (fullscreen takes effect only under a window manager).
# And the Tauri CLI from npm (`@tauri-apps/cli@^2`, in src-tauri/node_modules; its native
# binary ships in the npm package; `npm ci` fails here, `npm install` works).
passdesk_tauri_build_packages="pkg-config build-essential file libwebkit2gtk-4.1-dev libssl-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev"
passdesk_tauri_test_packages="xvfb xauth webkit2gtk-driver dbus-x11 matchbox-window-manager"

passdesk_tauri_build_deps() {
  # shellcheck disable=SC2086
  passdesk_apt_ensure $passdesk_tauri_build_packages
}

passdesk_tauri_test_deps() {
  # shellcheck disable=SC2086
  passdesk_apt_ensure $passdesk_tauri_test_packages
}

# The Tauri CLI (only for `tauri build --bundles deb`; plain cargo builds the app).
passdesk_tauri_cli() {
  if ! command -v npm > /dev/null 2>&1; then
    echo "npm is not installed: install Node.js 20 or later and run again" >&2
    return 1
  fi
  (cd src-tauri && npm install --no-audit --no-fund --loglevel=error)
}

# The window test (src-tauri/e2e/window_test.py): needs target/debug/passdesk-app and
# target/debug/passdesk, selenium (scripts/lib/python.sh) and the test packages. Its own D-Bus
# session bus, so the single-instance guard is tested and no desktop session is disturbed.
passdesk_app_test() {
  dbus-run-session -- python3 src-tauri/e2e/window_test.py
}
