# Sourced (after scripts/lib/apt.sh, which installs pcscd and vsmartcard-vpcd) by
# scripts/test.sh: the PC/SC daemon and its virtual readers for the NFC tests.

# passdesk_reserve_vpcd_ports: vpcd's two virtual readers listen on 35963 and 35964, inside the
# kernel's ephemeral range (32768-60999), where any test server on 127.0.0.1:0 or any outgoing
# connection may be given them. pcscd started while one of them is taken (or in TIME_WAIT) loads
# no vpcd reader for its whole life ("Address already in use"), and every NFC test after it
# fails. Reserving them keeps the kernel from handing them out. Best effort: where
# /proc/sys is read-only (a container), say so and go on.
passdesk_reserve_vpcd_ports() {
  local file=/proc/sys/net/ipv4/ip_local_reserved_ports current
  current=$(cat "$file" 2> /dev/null) || return 0
  case ",$current," in *,35963-35964,*) return 0 ;; esac
  if ! { [ -w "$file" ] && echo "${current:+$current,}35963-35964" > "$file"; } 2> /dev/null; then
    echo "note: cannot reserve ports 35963-35964 for vpcd ($file is not writable): an NFC test may find pcscd without its virtual readers" >&2
  fi
}

# passdesk_hold_pcscd: one pcscd for the whole test run, started here when none is running and
# stopped when the calling script exits. Run alone, the tests start pcscd themselves
# (tests/src/vpcd.rs) with --auto-exit, so that none is left behind; but an auto-exiting
# pcscd leaves 60 s after its last client and takes about 1.5 s to go, still answering, and a
# test binary that starts in that moment finds the readers and then loses them. One held here
# does not leave. A pcscd already running (the machine's own) is used as it is.
passdesk_hold_pcscd() {
  local pid_file=/run/pcscd/pcscd.pid pid log
  pid=$(passdesk_pcscd_pid_in "$pid_file")
  if [ -n "$pid" ] && kill -0 "$pid" 2> /dev/null; then
    return 0
  fi
  log="${CARGO_TARGET_DIR:-target}/pcscd-tests.log"
  mkdir -p "$(dirname "$log")"
  pcscd --foreground > "$log" 2>&1 &
  passdesk_pcscd_pid=$!
  trap 'kill "$passdesk_pcscd_pid" 2> /dev/null || true' EXIT
  # Ready when it has written its pid file (after its socket) and still runs.
  for _ in $(seq 100); do
    if [ "$(passdesk_pcscd_pid_in "$pid_file")" = "$passdesk_pcscd_pid" ]; then
      return 0
    fi
    if ! kill -0 "$passdesk_pcscd_pid" 2> /dev/null; then
      echo "pcscd did not start (its log: $log); the NFC tests will start their own" >&2
      return 0
    fi
    sleep 0.1
  done
  echo "pcscd did not write $pid_file within 10 s (its log: $log)" >&2
}

# The pid in pcscd's pid file (written with a trailing NUL), or nothing.
passdesk_pcscd_pid_in() {
  { tr -dc '0-9' < "$1"; } 2> /dev/null || true
}
