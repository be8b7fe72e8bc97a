#!/usr/bin/env bash
# Installs (if missing) and starts the real servers the integration tests talk to:
#   - Debian's InfluxDB 1.6.7 on 127.0.0.1:$INFLUX_PORT (the database engine), and
#   - nginx in front of it on 127.0.0.1:$SHIM_PORT, rewriting /api/v2/write?bucket=X to /write?db=X,
#     so the InfluxDB 2.x write path (influxdb2 crate, gzip) is exercised against a real engine.
# Usage: scripts/services.sh start DIR   -> prints the export lines for the test environment
#        scripts/services.sh stop DIR
set -euo pipefail

INFLUX_PORT=${INFLUX_PORT:-18086}
INFLUX_RPC_PORT=${INFLUX_RPC_PORT:-18088}
SHIM_PORT=${SHIM_PORT:-18087}

need_install() {
  command -v influxd >/dev/null 2>&1 || return 0
  command -v nginx >/dev/null 2>&1 || return 0
  return 1
}

install() {
  if need_install; then
    echo "installing influxdb and nginx-light from Debian..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq influxdb influxdb-client nginx-light >&2
  fi
}

start() {
  local dir=$1
  mkdir -p "$dir"/{meta,data,wal,nginx}
  cat >"$dir/influxdb.conf" <<CONF
reporting-enabled = false
bind-address = "127.0.0.1:${INFLUX_RPC_PORT}"
[meta]
  dir = "$dir/meta"
[data]
  dir = "$dir/data"
  wal-dir = "$dir/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:${INFLUX_PORT}"
  auth-enabled = false
  log-enabled = false
[logging]
  level = "warn"
[continuous_queries]
  enabled = false
CONF
  influxd -config "$dir/influxdb.conf" >"$dir/influxd.log" 2>&1 &
  echo $! >"$dir/influxd.pid"

  cat >"$dir/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $dir/nginx/body;
  proxy_temp_path $dir/nginx/proxy;
  fastcgi_temp_path $dir/nginx/fastcgi;
  uwsgi_temp_path $dir/nginx/uwsgi;
  scgi_temp_path $dir/nginx/scgi;
  client_max_body_size 64m;
  # Keep request bodies in memory: nginx's workers run as an unprivileged user that cannot write
  # body temp files into our (root-owned, 0700) temp directory.
  client_body_buffer_size 64m;
  server {
    listen 127.0.0.1:${SHIM_PORT};
    location = /api/v2/write {
      proxy_http_version 1.1;
      proxy_pass http://127.0.0.1:${INFLUX_PORT}/write?db=\$arg_bucket&precision=\$arg_precision;
    }
    location / { proxy_http_version 1.1; proxy_pass http://127.0.0.1:${INFLUX_PORT}; }
  }
}
CONF
  nginx -c "$dir/nginx.conf" -p "$dir/nginx" >"$dir/nginx/stdout.log" 2>&1 &
  echo $! >"$dir/nginx.pid"

  for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null "http://127.0.0.1:${INFLUX_PORT}/ping" &&
       curl -fsS -o /dev/null "http://127.0.0.1:${SHIM_PORT}/ping"; then
      echo "export FI_TEST_INFLUX_V1_URL=http://127.0.0.1:${INFLUX_PORT}"
      echo "export FI_TEST_INFLUX_V2_URL=http://127.0.0.1:${SHIM_PORT}"
      echo "export FI_TEST_INFLUXD_CONF=$dir/influxdb.conf"
      return 0
    fi
    sleep 0.1
  done
  echo "influxd or nginx did not come up; logs in $dir" >&2
  cat "$dir/influxd.log" "$dir/nginx/error.log" >&2 || true
  return 1
}

stop() {
  local dir=$1
  for p in nginx influxd; do
    if [ -f "$dir/$p.pid" ]; then
      kill "$(cat "$dir/$p.pid")" 2>/dev/null || true
      rm -f "$dir/$p.pid"
    fi
  done
}

case "${1:-}" in
  install) install ;;
  start) install; start "$2" ;;
  stop) stop "$2" ;;
  *) echo "usage: $0 install | start DIR | stop DIR" >&2; exit 2 ;;
esac
