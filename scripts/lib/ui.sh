# Sourced by scripts/test.sh and scripts/run.sh: the screens in ui/.
#   - Debian's chromium for the browser tests (installed only when missing, by apt.sh's passdesk_apt_ensure;
#     playwright-core drives /usr/bin/chromium: `npx playwright install` cannot download here).
#   - npm install + npm run build in ui/, so ui/dist exists before cargo builds the binary that
#     embeds it (release) or serves it from disk (debug).
# Node.js 20+ and npm must be on the machine.
passdesk_ui_apt_packages="chromium"

passdesk_ui_deps() {
  # shellcheck disable=SC2086
  passdesk_apt_ensure $passdesk_ui_apt_packages   # scripts/lib/apt.sh
}

passdesk_ui_build() {
  if ! command -v npm > /dev/null 2>&1; then
    echo "npm is not installed: install Node.js 20 or later and run again" >&2
    return 1
  fi
  (
    cd ui
    # `npm ci` is stricter but has failed on this kind of machine; install keeps to the lockfile.
    npm install --no-audit --no-fund --loglevel=error
    npm run build --silent
  )
}

# Browser tests: needs target/debug/passdesk (cargo build first) and ui/dist.
passdesk_ui_test() {
  (cd ui && npm test)
}

passdesk_ui_deps
passdesk_ui_build
