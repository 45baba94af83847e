#!/usr/bin/env bash
# TLS to the database, through the real binaries: a throwaway PostgreSQL (tests/pg.sh) that
# accepts only TLS connections (hostssl in pg_hba.conf), with a server certificate for 127.0.0.1
# issued at test time by a test CA, and ccburst-kbs configured with sslmode = "verify-full":
#   1. with the test CA as sslrootcert the replica starts, is ready and serves a whole flow;
#   2. with another CA it refuses to start, and the error names TLS and the certificate check;
#   3. without TLS (sslmode = "disable") the server refuses the connection.
# Usage: e2e_pg_tls.sh <build-dir>
set -euo pipefail
BUILD="$(cd "$1" && pwd)"
HERE="$(cd "$(dirname "$0")" && pwd)"
KBS="$BUILD/apps/ccburst-kbs"
CLI_BIN="$BUILD/apps/ccburst"
WORK="$(mktemp -d /tmp/ccburst-pgtls.XXXXXX)"
source "$HERE/pg.sh"
PID=""
cleanup() {
  [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null || true
  wait 2>/dev/null || true
  pg_stop
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  [ -f "$WORK/kbs.log" ] && { echo "== kbs.log"; tail -15 "$WORK/kbs.log"; } >&2
  exit 1
}
code() { curl -s -o /dev/null -m 10 -w '%{http_code}' "$@"; }

# A test CA, a server certificate for 127.0.0.1 issued by it, and an unrelated CA.
make_ca() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=$2" -keyout "$WORK/$1.key" -out "$WORK/$1.crt" 2>/dev/null
}
make_ca ca "ccburst test database CA"
make_ca other-ca "some other CA"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$WORK/server.key" -out "$WORK/server.csr" 2>/dev/null
printf 'subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n' >"$WORK/server.ext"
openssl x509 -req -in "$WORK/server.csr" -CA "$WORK/ca.crt" -CAkey "$WORK/ca.key" \
  -CAcreateserial -days 2 -extfile "$WORK/server.ext" -out "$WORK/server.crt" 2>/dev/null

pg_start "$WORK/pg"
install -m 0600 "$WORK/server.key" "$PG_DATA/server.key"
install -m 0644 "$WORK/server.crt" "$PG_DATA/server.crt"
[ "$(id -u)" -eq 0 ] && chown postgres: "$PG_DATA/server.key" "$PG_DATA/server.crt"
printf "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n" >>"$PG_DATA/postgresql.conf"
# TLS only: every TCP connection must be hostssl.
sed -i 's/^host\(\s\)/hostssl\1/' "$PG_DATA/pg_hba.conf"
pg_restart
echo "PostgreSQL with TLS only on port $PG_PORT"

"$CLI_BIN" keygen --out-dir "$WORK" >/dev/null
"$CLI_BIN" make-kek --id tls-1 --out "$WORK/kek" >/dev/null
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$WORK/token.key"
SECRET="tls-secret-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s' "$SECRET" >"$WORK/secret.bin"

# `write_config SSLMODE [ROOTCERT]`
write_config() {
  pg_kbs_toml "sslmode = \"$1\"" ${2:+"sslrootcert = \"$2\""} 'connect_timeout_s = 2' >"$WORK/kbs.toml"
}

# 1. verify-full with the CA that issued the server's certificate.
write_config verify-full ca.crt
"$KBS" --config "$WORK/kbs.toml" --log-level warn >"$WORK/kbs.out" 2>"$WORK/kbs.log" &
PID=$!
for _ in $(seq 1 200); do
  grep -q "ready port=" "$WORK/kbs.out" && break
  kill -0 "$PID" 2>/dev/null || fail "ccburst-kbs exited at start-up with verify-full and the right CA"
  sleep 0.05
done
PORT="$(sed -n 's/.*ready port=\([0-9]*\).*/\1/p' "$WORK/kbs.out")"
[ -n "$PORT" ] || fail "no port"
URL="http://127.0.0.1:$PORT"
[ "$(code "$URL/readyz")" = 200 ] || fail "not ready over TLS"
ADMIN=("$CLI_BIN" --url "$URL" config --admin-token-file "$WORK/admin.token")
"${ADMIN[@]}" set-resource --path default/key/model --resource-file "$WORK/secret.bin" >/dev/null
"${ADMIN[@]}" set-resource-policy --allow-all >/dev/null
"$CLI_BIN" --url "$URL" get-resource --path default/key/model --output "$WORK/got.bin" >/dev/null \
  || fail "flow over a TLS database connection failed"
[ "$(cat "$WORK/got.bin")" = "$SECRET" ] || fail "released something else"
# The server says the replica's connections are TLS.
ssl_rows="$("$PG_BIN/psql" -X -q -A -t "sslmode=verify-full sslrootcert=$WORK/ca.crt host=127.0.0.1 port=$PG_PORT user=postgres dbname=postgres" \
  -c "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'ccburst-kbs' AND s.ssl")"
[ "${ssl_rows:-0}" -ge 1 ] || fail "no TLS connection from ccburst-kbs in pg_stat_ssl"
kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
echo "ok   verify-full with the issuing CA: ready, a whole flow, $ssl_rows TLS connection(s) in pg_stat_ssl"

# 2. verify-full with a CA that did not issue the server's certificate.
write_config verify-full other-ca.crt
if timeout 30 "$KBS" --config "$WORK/kbs.toml" --log-level warn >"$WORK/kbs.out" 2>"$WORK/kbs.log"; then
  fail "ccburst-kbs started although the database's certificate is not from sslrootcert"
fi
grep -q "ready port=" "$WORK/kbs.out" && fail "ccburst-kbs became ready with the wrong CA"
grep -q "store: postgres" "$WORK/kbs.log" || fail "the error does not name the store"
grep -q "SSL error: certificate verify failed" "$WORK/kbs.log" \
  || fail "the error does not say the certificate check failed"
grep -q "sslrootcert .*other-ca.crt" "$WORK/kbs.log" || fail "the error does not name the CA file"
echo "ok   verify-full with another CA: refused: $(grep -o 'connect.*' "$WORK/kbs.log" | head -1)"

# 3. Without TLS the server refuses.
write_config disable
if timeout 30 "$KBS" --config "$WORK/kbs.toml" --log-level warn >"$WORK/kbs.out" 2>"$WORK/kbs.log"; then
  fail "ccburst-kbs started without TLS on a TLS-only database"
fi
grep -q "no encryption" "$WORK/kbs.log" || fail "a plain connection was not refused for want of TLS"
echo "ok   sslmode = disable: the TLS-only server refuses"
echo "PASS e2e_pg_tls"
