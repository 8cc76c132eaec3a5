#!/usr/bin/env bash
# Passdesk's main job on this machine: build the counter, load the demo counter into an embedded
# SQLite database, run a short scripted counter session that prints each decision, then start
# the counter: where a display exists (DISPLAY or WAYLAND_DISPLAY set), the desktop app
# (src-tauri: the service in-process and its screens in a window); where none does, the counter
# service on its own (http://127.0.0.1:8917, with an API key for this run), until Ctrl-C.
#
# The demo lives in ./data/demo and is rebuilt on every run; set PASSDESK_DEMO_DIR to move it.
# PASSDESK_SESSION_ONLY=1 stops after the scripted session; PASSDESK_HEADLESS=1 serves without
# the window even where a display exists; PASSDESK_KIOSK=1 opens the app in kiosk mode;
# PASSDESK_SCREEN=cashier (or manager, status) opens the app as till-1's till instead of gate-a's gate.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/toolchain.sh
. scripts/lib/apt.sh
. scripts/lib/ui.sh   # builds ui/dist, embedded in the release binary below

cargo build --release --locked -p passdesk
desktop=""
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ "${PASSDESK_HEADLESS:-}" != 1 ] \
  && [ "${PASSDESK_SESSION_ONLY:-}" != 1 ]; then
  . scripts/lib/tauri.sh
  passdesk_tauri_build_deps
  # custom-protocol: a production build (what `tauri build` makes), not a dev-server one.
  cargo build --release --locked -p passdesk-app --features custom-protocol
  desktop="$PWD/target/release/passdesk-app"
fi
bin="$PWD/target/release/passdesk"
data="${PASSDESK_DEMO_DIR:-$PWD/data/demo}"
rm -rf "$data"
"$bin" --data-dir "$data" demo > /dev/null
echo "Demo counter ready in $data (460 passes, 5 readers)."

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
scan() { # scan VALUE READER [--exit]: one decision, in words
  "$bin" --data-dir "$data" scan "$1" --reader "$2" "${@:3}" --format text || true
}

say "Gate A, Harbour Lights Festival: people walk up with tickets"
scan HLF-0001 gate-a
scan HLF-0001 gate-a          # the same phone held on the reader: the first decision, once
scan HLF-0002 gate-a
scan HLF-0040 gate-a          # refunded ticket
scan JAZZ-001 gate-a          # a ticket for next week's jazz night

say "Gate B: someone tries to share a ticket"
scan HLF-0001 gate-b

say "Weekend pass: in, out for a break, back in"
scan HLW-001 gate-a
scan HLW-001 gate-b           # still inside
scan HLW-001 exit-1
scan HLW-001 gate-b

say "Offline: a ticket sold online a minute ago, not yet in this counter's cache"
token=$("$bin" --data-dir "$data" token issue web-sale-0001 --template tpl-hlf-ticket \
          --event ev-harbour-lights | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
scan "$token" gate-a          # validated by its PD1 signature alone
scan "$token" gate-b          # and still only once
scan "${token%?????}" gate-a  # a damaged code

say "Till 1, Bean There Coffee: loyalty cards"
scan BEAN-0001 till-1
loyalty() { # loyalty ARGS...: one loyalty operation, in words
  { "$bin" --data-dir "$data" loyalty "$@" 2> /dev/null || true; } | python3 scripts/lib/loyalty_line.py
}
op=0190e5a0-0000-7000-8000-00000000c0fe
loyalty earn BEAN-0001 --amount 1250 --op-id $op  # a £12.50 purchase: 12 points
loyalty earn BEAN-0001 --amount 1250 --op-id $op  # the till retried: same operation id
loyalty stamp BEAN-0001
loyalty reward redeem BEAN-0001 --tier "£5 off"     # not enough points yet
scan BEAN-0005 till-1
loyalty reward redeem BEAN-0005 --tier "£5 off"
scan BEAN-0008 till-1
loyalty stamp BEAN-0008                              # the tenth stamp fills the card
loyalty reward redeem BEAN-0008 --tier "Free coffee"
scan BEAN-0025 till-1         # expired card
scan BEAN-0033 till-1         # removed from the wallet, shown as a screenshot
scan NOT-A-PASS till-1

say "The audit log has every scan:"
"$bin" --data-dir "$data" scans list --limit 1000 | python3 -c '
import json, sys, collections
rows = json.load(sys.stdin)["data"]
c = collections.Counter(r["reason"] or "accepted" for r in rows)
print(f"  {len(rows)} scans: " + ", ".join(f"{k} {v}" for k, v in sorted(c.items())))'
echo
echo "Try it yourself:  $bin --data-dir $data scan HLF-0100 --reader gate-a --format text"

[ "${PASSDESK_SESSION_ONLY:-}" = 1 ] && exit 0
if [ -n "$desktop" ]; then
  say "The desktop app on the demo database (close the window or Ctrl-C to stop):"
  # The window's own key is its station's: a gate's reader key bound to gate-a, or with
  # PASSDESK_SCREEN=cashier a till's cashier key bound to till-1. A manager signs in with their
  # own key, made here for the person trying the demo.
  screen="${PASSDESK_SCREEN:-gate}"
  reader=gate-a
  [ "$screen" = gate ] || reader=till-1
  manager_key=$("$bin" --data-dir "$data" keys create --role manager --name "demo manager" \
                  | python3 -c 'import json, sys; print(json.load(sys.stdin)["key"])')
  if [ "$screen" = gate ]; then
    echo "  the window opens on gate-a's entry gate with a gate's reader key (the gate and status screens);"
    echo "  PASSDESK_SCREEN=cashier opens till-1's till instead, with the manager screen in its navigation"
  else
    echo "  the window opens on till-1's $screen screen with a till's cashier key"
  fi
  echo "  a manager's key for this demo (the manager screen and the till's Undo ask for it): $manager_key"
  echo "  the service's URL is printed below; API keys for scripts: $bin --data-dir $data keys create --role cashier --name me"
  kiosk=""
  [ "${PASSDESK_KIOSK:-}" = 1 ] && kiosk="--kiosk" && echo "  kiosk mode: Ctrl+Alt+K and a manager key leave it"
  exec "$desktop" --data-dir "$data" --demo --screen "$screen" --reader "$reader" $kiosk
fi
say "The counter service on the demo database (Ctrl-C to stop; PC/SC and serial readers are picked up as configured):"
echo "  the screens: open <listening URL>/#/gate?reader=gate-a&key=<apiKey> (also #/cashier, #/manager, #/status)"
echo "  the API: every /api/v1 call needs Authorization: Bearer <apiKey>"
exec "$bin" --data-dir "$data" serve --demo
