# Sourced by scripts/test.sh and scripts/run.sh: the screens in ui/.
#   - Debian's chromium for the browser tests (installed only when missing, like apt.sh does;
#     playwright-core drives /usr/bin/chromium: `npx playwright install` cannot download here).
#   - npm install + npm run build in ui/, so ui/dist exists before cargo builds the binary that
#     embeds it (release) or serves it from disk (debug).
# Node.js 20+ and npm must be on the machine.
passdesk_ui_apt_packages="chromium"

passdesk_ui_deps() {
  local p missing=""
  for p in $passdesk_ui_apt_packages; do
    dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo > /dev/null 2>&1 || { echo "missing packages:$missing; run as root or install sudo" >&2; return 1; }
    sudo="sudo"
  fi
  echo "installing Debian packages:$missing" >&2
  $sudo apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends $missing
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
