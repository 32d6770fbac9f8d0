# Start PostgreSQL and Redis on loopback throwaway ports; source this file (bash), as root.
# Exports DOSSIER_TEST_POSTGRES_URL and DOSSIER_TEST_REDIS_URL; `services_down` stops both.
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
PGPORT=$(free_port); REDIS_PORT=$(free_port)
SVC_DIR=$(mktemp -d /tmp/dossier-svc.XXXXXX); chown postgres:postgres "$SVC_DIR"
services_down() {
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$SVC_DIR/pg" -m immediate -w stop >/dev/null 2>&1 || true
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  rm -rf "$SVC_DIR"
}
runuser -u postgres -- "$PGBIN/initdb" -D "$SVC_DIR/pg" -U postgres -A trust -E UTF8 -N >/dev/null
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$SVC_DIR/pg" -l "$SVC_DIR/pg.log" -w -t 60 \
  -o "-p $PGPORT -k $SVC_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off" start >/dev/null
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --daemonize yes \
  --pidfile "$SVC_DIR/redis.pid" --dir "$SVC_DIR" >/dev/null
export DOSSIER_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$PGPORT/postgres"
export DOSSIER_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
