#!/usr/bin/env bash
# `ccburst-scaler simulate --json` on a shipped trace: judged by its exit code (ctest's pass
# regular expression would ignore it) and by the output, one JSON object per policy with the
# seed's and ccburst's pending pod-seconds. Usage: simulate_cli.sh <ccburst-scaler> <trace.csv>
set -euo pipefail
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
rc=0
"$1" simulate --json --trace "$2" >"$out" || rc=$?
[ "$rc" = 0 ] || { echo "FAIL: ccburst-scaler simulate exited $rc" >&2; cat "$out" >&2; exit 1; }
python3 - "$out" <<'PY'
import json, sys
lines = [l for l in open(sys.argv[1]).read().splitlines() if l.strip()]
rows = [json.loads(l) for l in lines]
policies = [r.get("policy") for r in rows]
assert policies[:2] == ["seed", "ccburst"], f"policies {policies}"
for r in rows:
    v = r.get("pending_pod_seconds")
    assert isinstance(v, (int, float)) and v >= 0, f"pending_pod_seconds in {r}"
print(f"ok: {len(rows)} policies: {policies}")
PY
# The learned hold is ccburst's alone: turning it off leaves the seed's figures as they were.
plain="$(mktemp)"
trap 'rm -f "$out" "$plain"' EXIT
"$1" simulate --json --trace "$2" --no-learned-hold --flap-price 0.5 >"$plain"
python3 - "$out" "$plain" <<'PY'
import json, sys
a, b = ([json.loads(l) for l in open(p) if l.strip()] for p in sys.argv[1:3])
assert a[0] == b[0], f"the seed changed: {a[0]} / {b[0]}"
assert b[1]["policy"] == "ccburst"
print("ok: --no-learned-hold changes only ccburst's run")
PY
