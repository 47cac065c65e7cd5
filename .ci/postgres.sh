# Sourced by .ci/run: a PostgreSQL server on loopback for the distributed-optimizer tests.
# Installs Debian's package when missing, runs the server as the postgres user (never root) from a
# data dir under /tmp, creates role and database t2ml, and exports T2ML_TEST_POSTGRES (the URL) and
# T2ML_REQUIRE_POSTGRES=1 (the tests fail instead of skipping). TCP logins need the password
# (scram-sha-256); the local socket in /tmp trusts the postgres user. Idempotent: a server already
# answering on the port is reused.
T2ML_PG_PORT="${T2ML_PG_PORT:-55432}"
T2ML_PG_DIR="${T2ML_PG_DIR:-/tmp/t2ml-ci-postgres}"
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
T2ML_PG_BIN="$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")"
t2ml_pg_ready() { runuser -u postgres -- "$T2ML_PG_BIN/pg_isready" -q -h /tmp -p "$T2ML_PG_PORT"; }
if ! t2ml_pg_ready; then
  if [ ! -f "$T2ML_PG_DIR/data/PG_VERSION" ]; then
    rm -rf "$T2ML_PG_DIR" && mkdir -p "$T2ML_PG_DIR" && chown postgres: "$T2ML_PG_DIR"
    runuser -u postgres -- "$T2ML_PG_BIN/initdb" -D "$T2ML_PG_DIR/data" --auth-local=trust --auth-host=scram-sha-256 -U postgres >/dev/null
  fi
  runuser -u postgres -- "$T2ML_PG_BIN/pg_ctl" -D "$T2ML_PG_DIR/data" -l "$T2ML_PG_DIR/server.log" -w -t 60 start \
    -o "-k /tmp -c listen_addresses=127.0.0.1 -p $T2ML_PG_PORT -c max_connections=200 -c fsync=off" >/dev/null \
    || { echo "PostgreSQL did not start; its log:"; tail -30 "$T2ML_PG_DIR/server.log"; exit 1; }
fi
t2ml_psql() { runuser -u postgres -- "$T2ML_PG_BIN/psql" -q -h /tmp -p "$T2ML_PG_PORT" -U postgres -v ON_ERROR_STOP=1 "$@"; }
t2ml_psql -tc "SELECT 1 FROM pg_roles WHERE rolname='t2ml'" | grep -q 1 \
  || t2ml_psql -c "CREATE ROLE t2ml LOGIN PASSWORD 't2ml-ci'"
t2ml_psql -tc "SELECT 1 FROM pg_database WHERE datname='t2ml'" | grep -q 1 \
  || t2ml_psql -c "CREATE DATABASE t2ml OWNER t2ml"
echo "postgres $("$T2ML_PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$T2ML_PG_PORT"
export T2ML_TEST_POSTGRES="postgresql://t2ml:t2ml-ci@127.0.0.1:$T2ML_PG_PORT/t2ml"
export T2ML_REQUIRE_POSTGRES=1
