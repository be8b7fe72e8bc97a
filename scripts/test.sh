#!/usr/bin/env bash
# The whole test suite, on a fresh machine or a developer's: installs what the tests need (Debian's
# InfluxDB 1.6.7 and nginx-light; hadolint, check-jsonschema and tsc with @grafana/schema), starts the
# servers on loopback ports, runs fmt/clippy, the deployment checks and every test against them, and
# stops what it started. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d -t fitbit-influx-test.XXXXXX)
cleanup() {
  scripts/services.sh stop "$work/services" || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== services"
eval "$(scripts/services.sh start "$work/services")"

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --all-targets --locked -- -D warnings

echo "== deployment files (hadolint, compose-spec, Grafana provisioning, dashboards with tsc)"
scripts/check-deploy.sh

echo "== cargo test"
cargo test --locked --all-targets --no-fail-fast
