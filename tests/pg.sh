#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests: a real PostgreSQL 15 server (Debian `postgresql`) in a
# temporary directory on a free loopback port, run as the unprivileged `postgres` user when the
# caller is root (initdb refuses root), torn down afterwards. No mock of libpq anywhere.
#
# Sourced:  . tests/pg.sh; pg_start "$WORK/pg"; ...; pg_restart; ...; pg_stop
#           pg_start sets PG_PORT, PG_DATA and PG_URL (postgresql://postgres@127.0.0.1:PORT/postgres).
# Run:      tests/pg.sh run COMMAND...   starts a cluster, runs COMMAND with CCB_TEST_PG_URL set,
#           stops the cluster and exits with COMMAND's status.

PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"

# Runs a PostgreSQL program as the cluster's owner.
pg_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# `pg_start DIR`: initdb in DIR/data and start the server on 127.0.0.1 only.
pg_start() {
  local dir="$1"
  [ -x "$PG_BIN/initdb" ] || { echo "pg.sh: no PostgreSQL server found (apt-get install postgresql)" >&2; return 1; }
  mkdir -p "$dir"
  PG_DIR="$(cd "$dir" && pwd)"
  PG_DATA="$PG_DIR/data"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$PG_DIR"
    chmod 0700 "$PG_DIR"
    # The owner must be able to reach the directory through every parent.
    local p="$PG_DIR"
    while [ "$p" != "/" ]; do p="$(dirname "$p")"; chmod o+x "$p" 2>/dev/null || true; done
  fi
  pg_as_owner "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -A trust --no-sync -E UTF8 >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log" >&2; return 1; }
  PG_PORT="$(pg_free_port)"
  cat >>"$PG_DATA/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_DIR'
fsync = off
max_connections = 200
EOF
  PG_URL="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
  pg_server_start
}

pg_server_start() {
  pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DIR/server.log" -w -t 30 start >/dev/null \
    || { tail -20 "$PG_DIR/server.log" >&2; return 1; }
}

# `pg_server_stop [MODE]`: stop the server (fast by default; `immediate` is a crash).
pg_server_stop() {
  pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DATA" -m "${1:-fast}" -w -t 30 stop >/dev/null 2>&1 || true
}

pg_restart() { pg_server_stop "${1:-fast}"; pg_server_start; }

# `pg_stop`: stop the server and remove the cluster.
pg_stop() {
  [ -n "${PG_DATA:-}" ] || return 0
  pg_server_stop immediate
  rm -rf "$PG_DIR"
  PG_DATA=""
}

# `pg_sql SQL`: runs SQL through psql on the cluster, unaligned output.
# `pg_kbs_toml [LINE...]`: prints a loopback HTTP ccburst-kbs configuration on this cluster (admin
# bearer JWT with admin.pub, shared token key token.key, values encrypted with the key file kek),
# each LINE appended to [storage_backend.backends.postgres] (sslmode, pool_size, ...).
pg_kbs_toml() {
  cat <<TOML
[http_server]
sockets = ["127.0.0.1:0"]
insecure_http = true
[admin]
authorization_mode = "AuthenticatedAuthorization"
[admin.authentication.bearer_jwt]
identity_providers = [ { issuer = "ccburst-admin", audience = "kbs", public_key_uri = "admin.pub" } ]
[admin.authorization.regex_acl]
acls = [ { role = "admin", allowed_endpoints = "^/kbs/.+\$" } ]
[attestation_service.attestation_token_broker.signer]
key_path = "token.key"
[storage_backend]
storage_type = "Postgres"
[storage_backend.backends.postgres]
host = "127.0.0.1"
port = $PG_PORT
db = "postgres"
username = "postgres"
TOML
  if [ $# -gt 0 ]; then printf '%s\n' "$@"; fi
  printf '[storage_backend.encryption]\nkey_file = "kek"\n'
}

pg_sql() { "$PG_BIN/psql" -X -q -A -t -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -c "$1"; }

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  [ "${1:-}" = run ] || { echo "usage: $0 run COMMAND..." >&2; exit 2; }
  shift
  tmp="$(mktemp -d /tmp/ccb_pg.XXXXXX)"
  trap 'pg_stop; rm -rf "$tmp"' EXIT
  pg_start "$tmp/pg"
  set +e
  CCB_TEST_PG_URL="$PG_URL" "$@"
  rc=$?
  exit $rc
fi
