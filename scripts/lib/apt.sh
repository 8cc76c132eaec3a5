# Sourced by the scripts: the Debian packages Passdesk needs to build and test, installed only
# when missing (CI runs as root on a fresh Debian; a developer machine usually has them).
#   libpcsclite-dev, pkg-config: the `pcsc` crate links against libpcsclite.
#   pcscd, vsmartcard-vpcd: the PC/SC daemon and its virtual reader, for the NFC tests with
#   simulated phones.
#   socat: pty pairs that stand in for a VTAP / barcode scanner's serial port in the serial
#   reader tests. (The serial code itself needs no system library: USB ids come from sysfs.)
passdesk_apt_packages="pkg-config libpcsclite-dev pcscd vsmartcard-vpcd socat"

passdesk_apt_missing() {
  local p missing=""
  for p in $passdesk_apt_packages; do
    dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  echo "$missing"
}

passdesk_apt_install() {
  local missing
  missing=$(passdesk_apt_missing)
  [ -z "$missing" ] && return 0
  if ! command -v apt-get > /dev/null 2>&1; then
    echo "missing Debian packages:$missing (install them with your package manager)" >&2
    return 1
  fi
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

passdesk_apt_install
