# Helpers shared by the shell tests in tests/ (sourced, not run). Each test sets WORK (its scratch
# directory) before calling them.

# `field FILE EXPR`: a value of the JSON file, e.g. field out.json "['claims']['tcb_status']".
field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval('d'+sys.argv[2]))" "$@"; }

# `check NAME WANT_EXIT COMMAND...`: runs COMMAND with stdout in $WORK/out.json and stderr in
# $WORK/err.txt; a different exit code is counted in `fails` and reported with both outputs.
check() {
  local name="$1" want="$2"; shift 2
  set +e
  "$@" >"$WORK/out.json" 2>"$WORK/err.txt"
  local got=$?
  set -e
  if [ "$got" != "$want" ]; then
    echo "FAIL $name: exit $got, want $want"; cat "$WORK/out.json" "$WORK/err.txt"; fails=$((fails + 1))
    return 1
  fi
  echo "ok   $name (exit $got)"
}

# `fail MESSAGE`: stops the test, showing the end of the KBS's output and log.
fail() {
  echo "FAIL: $*" >&2
  for f in kbs.out kbs.log; do [ -f "$WORK/$f" ] && tail -20 "$WORK/$f" >&2; done
  exit 1
}

# `start_kbs KBS_BINARY NAME`: starts ccburst-kbs on $WORK/kbs.toml (an ephemeral loopback port),
# waits for its ready line and sets PID, PORT and URL.
start_kbs() {
  "$1" --config "$WORK/kbs.toml" >"$WORK/kbs.out" 2>"$WORK/kbs.log" &
  PID=$!
  for _ in $(seq 1 200); do
    grep -q "ready port=" "$WORK/kbs.out" && break
    kill -0 "$PID" 2>/dev/null || fail "ccburst-kbs exited at start-up"
    sleep 0.05
  done
  PORT="$(sed -n 's/.*ready port=\([0-9]*\).*/\1/p' "$WORK/kbs.out")"
  [ -n "$PORT" ] || fail "no port"
  URL="http://127.0.0.1:$PORT"
  echo "$2: KBS on port $PORT"
}

# `alive WHAT`: the KBS still answers /healthz with 200.
alive() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")" = 200 ] || fail "KBS not healthy after: $1"; }
