#!/usr/bin/env bash
# Installs (if missing) and starts the real servers the integration tests talk to:
#   - Debian's InfluxDB 1.6.7 on 127.0.0.1:$INFLUX_PORT (the database engine), and
#   - nginx in front of it on 127.0.0.1:$SHIM_PORT: the InfluxDB 2 address of the tests. It sends
#     /api/v2/write, /api/v2/buckets and /api/v2/delete to scripts/influx2_standin.py (on $STANDIN_PORT), which answers
#     them the way InfluxDB 2 does (token, organisation, "writing requires points" for an empty write,
#     its error bodies) and writes into the real engine; everything else goes to influxd. What the
#     stand-in does and does not prove is written at the top of influx2_standin.py.
# Usage: scripts/services.sh start DIR   -> prints the export lines for the test environment
#        scripts/services.sh stop DIR
set -euo pipefail

INFLUX_PORT=${INFLUX_PORT:-18086}
INFLUX_RPC_PORT=${INFLUX_RPC_PORT:-18088}
SHIM_PORT=${SHIM_PORT:-18087}
STANDIN_PORT=${STANDIN_PORT:-18089}
HERE=$(cd "$(dirname "$0")" && pwd)

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
    # The packages would start system-wide InfluxDB and nginx services (on ports 8086 and 80) and
    # leave them running; the tests start their own. policy-rc.d tells the packages not to.
    local policy=/usr/sbin/policy-rc.d
    local had_policy=0
    [ -e "$policy" ] && had_policy=1
    [ "$had_policy" = 1 ] || { printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; }
    apt-get install -y -qq influxdb influxdb-client nginx-light >&2
    [ "$had_policy" = 1 ] || rm -f "$policy"
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
    # Request buffering (nginx's default) turns the influxdb2 crate's chunked body into one with a
    # Content-Length for the stand-in.
    location = /api/v2/write { proxy_http_version 1.1; proxy_pass http://127.0.0.1:${STANDIN_PORT}; }
    location = /api/v2/buckets { proxy_http_version 1.1; proxy_pass http://127.0.0.1:${STANDIN_PORT}; }
    location = /api/v2/delete { proxy_http_version 1.1; proxy_pass http://127.0.0.1:${STANDIN_PORT}; }
    location / { proxy_http_version 1.1; proxy_pass http://127.0.0.1:${INFLUX_PORT}; }
  }
}
CONF
  FI_STANDIN_INFLUXD="http://127.0.0.1:${INFLUX_PORT}" FI_STANDIN_TOKEN=test-token FI_STANDIN_ORG=home \
    python3 "$HERE/influx2_standin.py" "$STANDIN_PORT" >"$dir/standin.log" 2>&1 &
  echo $! >"$dir/standin.pid"
  nginx -c "$dir/nginx.conf" -p "$dir/nginx" >"$dir/nginx/stdout.log" 2>&1 &
  echo $! >"$dir/nginx.pid"

  # influxd reloads its data first: a reused directory with much data takes a while.
  for _ in $(seq 1 600); do
    if curl -fsS -o /dev/null "http://127.0.0.1:${INFLUX_PORT}/ping" &&
       curl -fsS -o /dev/null "http://127.0.0.1:${SHIM_PORT}/ping" &&
       curl -sS -o /dev/null "http://127.0.0.1:${STANDIN_PORT}/api/v2/buckets"; then
      echo "export FI_TEST_INFLUX_V1_URL=http://127.0.0.1:${INFLUX_PORT}"
      echo "export FI_TEST_INFLUX_V2_URL=http://127.0.0.1:${SHIM_PORT}"
      echo "export FI_TEST_INFLUXD_CONF=$dir/influxdb.conf"
      return 0
    fi
    sleep 0.1
  done
  echo "influxd or nginx did not come up; logs in $dir" >&2
  cat "$dir/influxd.log" "$dir/nginx/error.log" "$dir/standin.log" >&2 || true
  return 1
}

stop() {
  local dir=$1
  for p in nginx standin influxd; do
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
