#!/usr/bin/env bash
# PostgreSQL and Redis for the tests that run hotro on its production stores.
#
#   scripts/services.sh         install Debian's postgresql and redis-server when missing,
#                               start them, write var/test-services.env (idempotent)
#   scripts/services.sh stop    stop both
#
# PostgreSQL: a cluster of its own ("hotro", port $HOTRO_PG_PORT), started with
# pg_ctlcluster (works as root without systemd), with a role that may create databases:
# every test session makes its own database. Redis: one daemon on loopback, no disk.
# Neither is needed to run hotro: its default configuration is SQLite with nothing to start.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_PORT=${HOTRO_PG_PORT:-54329}
REDIS_PORT=${HOTRO_REDIS_PORT:-63790}
CLUSTER=hotro
ROLE=hotro_test
REDIS_DIR=/tmp/hotro-redis-$REDIS_PORT
ENV_FILE=var/test-services.env

sudo_=""
[ "$(id -u)" -eq 0 ] || sudo_="sudo"
as_postgres() { $sudo_ runuser -u postgres -- "$@"; }

pg_version() { ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -1 || true; }

if [ "${1:-}" = "stop" ]; then
  v=$(pg_version)
  [ -n "$v" ] && $sudo_ pg_ctlcluster "$v" "$CLUSTER" stop 2>/dev/null || true
  command -v redis-cli >/dev/null 2>&1 && redis-cli -p "$REDIS_PORT" shutdown nosave 2>/dev/null || true
  rm -f "$ENV_FILE"
  exit 0
fi

missing=()
[ -n "$(pg_version)" ] && command -v pg_ctlcluster >/dev/null 2>&1 || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing Debian's ${missing[*]} for the PostgreSQL/Redis tests"
  $sudo_ apt-get update -qq
  # No init system in CI containers: the packages' own start attempts may fail; we start ours.
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq "${missing[@]}" >/dev/null ||
    echo "==> apt-get reported an error (a package's own service start, without init?); checking"
fi

v=$(pg_version)
if [ -z "$v" ] || ! command -v redis-server >/dev/null 2>&1; then
  echo "services.sh: PostgreSQL or redis-server is not installed (apt-get install postgresql redis-server)" >&2
  exit 1
fi
if ! $sudo_ pg_lsclusters -h | awk '{print $2}' | grep -qx "$CLUSTER"; then
  $sudo_ pg_createcluster "$v" "$CLUSTER" -p "$PG_PORT" >/dev/null
fi
if ! $sudo_ pg_lsclusters -h | awk -v c="$CLUSTER" '$2 == c {print $4}' | grep -qx online; then
  $sudo_ pg_ctlcluster "$v" "$CLUSTER" start
fi
as_postgres psql -p "$PG_PORT" -qAt -v ON_ERROR_STOP=1 -c "
  DO \$\$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') THEN
      CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$ROLE';
    END IF;
  END \$\$;" >/dev/null

if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  mkdir -p "$REDIS_DIR"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --dir "$REDIS_DIR" \
    --save "" --appendonly no --logfile "$REDIS_DIR/redis.log" \
    --pidfile "$REDIS_DIR/redis.pid"
  for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

mkdir -p var
cat > "$ENV_FILE" <<EOF
HOTRO_TEST_POSTGRES_URL=postgresql://$ROLE:$ROLE@127.0.0.1:$PG_PORT/postgres
HOTRO_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
EOF
echo "==> PostgreSQL $v on :$PG_PORT and Redis on :$REDIS_PORT ($ENV_FILE)"
