"""One `passdesk loyalty` JSON result (stdin) as a line a cashier reads."""
import json
import sys

r = json.load(sys.stdin)
if "error" in r:
    print("  refused:", r["error"]["message"])
    sys.exit(0)
parts = []
for e in r["entries"]:
    change = []
    if e["points"]:
        change.append("%+d pts" % e["points"])
    if e["stamps"]:
        change.append("%+d stamps" % e["stamps"])
    if e["rewardId"]:
        change.append("reward")
    parts.append("%s %s" % (e["kind"], " ".join(change)))
a = r["account"]
again = "  (replayed: nothing changed)" if r["replayed"] else ""
print("  %-44s -> balance %d pts, %d stamps%s" % (", ".join(parts), a["points"], a["stamps"], again))
