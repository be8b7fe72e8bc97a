#!/usr/bin/env python3
"""Checks Grafana's provisioning files without a Grafana server.

- grafana/provisioning/**/*.yaml against a JSON Schema of Grafana's provisioning format (misspelt or
  unknown keys fail);
- every panel and query of grafana/dashboards/*.json names the provisioned datasource by its uid.
Run by scripts/check-deploy.sh with the tools virtualenv (PyYAML, jsonschema).
"""

import json
import re
import sys
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parent.parent

DATASOURCES = {
    "type": "object",
    "additionalProperties": False,
    "required": ["apiVersion", "datasources"],
    "properties": {
        "apiVersion": {"const": 1},
        "deleteDatasources": {"type": "array"},
        "datasources": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "type", "uid", "access", "url"],
                "properties": {
                    "name": {"type": "string"},
                    "uid": {"type": "string", "pattern": "^[a-zA-Z0-9_-]{1,40}$"},
                    "type": {"enum": ["influxdb"]},
                    "access": {"enum": ["proxy", "direct"]},
                    # A URL, or one environment variable Grafana expands (checked below).
                    "url": {"type": "string", "pattern": "^(https?://|\\$\\{[A-Z_]+\\}$)"},
                    "isDefault": {"type": "boolean"},
                    "editable": {"type": "boolean"},
                    "orgId": {"type": "integer"},
                    "version": {"type": "integer"},
                    "basicAuth": {"type": "boolean"},
                    "user": {"type": "string"},
                    "database": {"type": "string"},
                    "jsonData": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["dbName"],
                        "properties": {
                            "dbName": {"type": "string"},
                            "httpMode": {"enum": ["GET", "POST"]},
                            "version": {"enum": ["InfluxQL", "Flux", "SQL"]},
                            "timeInterval": {"type": "string"},
                            "httpHeaderName1": {"type": "string"},
                            "httpHeaderName2": {"type": "string"},
                            "tlsSkipVerify": {"type": "boolean"},
                        },
                    },
                    "secureJsonData": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "httpHeaderValue1": {"type": "string"},
                            "httpHeaderValue2": {"type": "string"},
                            "password": {"type": "string"},
                            "token": {"type": "string"},
                        },
                    },
                },
            },
        },
    },
}

DASHBOARD_PROVIDERS = {
    "type": "object",
    "additionalProperties": False,
    "required": ["apiVersion", "providers"],
    "properties": {
        "apiVersion": {"const": 1},
        "providers": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "type", "options"],
                "properties": {
                    "name": {"type": "string"},
                    "orgId": {"type": "integer"},
                    "folder": {"type": "string"},
                    "folderUid": {"type": "string"},
                    "type": {"const": "file"},
                    "disableDeletion": {"type": "boolean"},
                    "allowUiUpdates": {"type": "boolean"},
                    "updateIntervalSeconds": {"type": "integer", "minimum": 10},
                    "options": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["path"],
                        "properties": {
                            "path": {"type": "string"},
                            "foldersFromFilesStructure": {"type": "boolean"},
                        },
                    },
                },
            },
        },
    },
}


# Fields whose schema type is a TypeScript string enum: a JSON string cannot satisfy it, so the TypeScript
# emitted for tsc names the enum member instead (a wrong value then fails as an unknown member).
ENUM_FIELDS = {("thresholds", "mode"): "ThresholdsMode", ("color", "mode"): "FieldColorModeId",
               ("mappings", "type"): "MappingType"}
# Enums whose member names are not the value capitalised.
ENUM_MEMBERS = {"MappingType": {"value": "ValueToText", "range": "RangeToText", "regex": "RegexToText",
                                "special": "SpecialValue"}}


def to_typescript(dashboard):
    """The dashboard as a TypeScript module typed as @grafana/schema's Dashboard."""
    used = set()

    def walk(node, parent_key=None):
        if isinstance(node, dict):
            out = {}
            for k, v in node.items():
                enum = ENUM_FIELDS.get((parent_key, k))
                if enum and isinstance(v, str):
                    member = ENUM_MEMBERS.get(enum, {}).get(v) or "".join(
                        part.capitalize() for part in v.replace("-", "_").split("_"))
                    used.add(enum)
                    out[k] = f"@@{enum}.{member}@@"
                else:
                    out[k] = walk(v, k)
            return out
        if isinstance(node, list):
            return [walk(x, parent_key) for x in node]
        return node

    body = json.dumps(walk(dashboard), indent=2)
    for enum in used:
        body = __import__("re").sub(r'"@@(' + enum + r'\.[A-Za-z]+)@@"', r"\1", body)
    imports = ", ".join(sorted(used | {"type Dashboard"}))
    return f"import {{ {imports} }} from '@grafana/schema';\n\nexport const dashboard: Dashboard = {body};\n"


def fail(msg):
    print(f"grafana check: {msg}")
    sys.exit(1)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--emit-ts":
        out = Path(sys.argv[2])
        out.mkdir(parents=True, exist_ok=True)
        for path in sorted((ROOT / "grafana/dashboards").glob("*.json")):
            (out / f"{path.stem}.ts").write_text(to_typescript(json.loads(path.read_text())))
        return
    ds_file = ROOT / "grafana/provisioning/datasources/influxdb.yaml"
    prov_file = ROOT / "grafana/provisioning/dashboards/fitbit.yaml"
    datasources = yaml.safe_load(ds_file.read_text())
    try:
        jsonschema.validate(datasources, DATASOURCES)
        jsonschema.validate(yaml.safe_load(prov_file.read_text()), DASHBOARD_PROVIDERS)
    except jsonschema.ValidationError as e:
        fail(f"{'/'.join(map(str, e.absolute_path))}: {e.message}")
    # Every ${VAR} the provisioning uses reaches the Grafana container of every compose file.
    wanted = set(re.findall(r"\$\{([A-Z_]+)\}", ds_file.read_text()))
    for compose in ("docker-compose.yml", "docker-compose.dev.yml"):
        grafana = yaml.safe_load((ROOT / compose).read_text())["services"]["grafana"]
        given = set(grafana.get("environment", {}))
        if not wanted <= given:
            fail(f"{compose}: grafana lacks {sorted(wanted - given)} used by {ds_file.name}")
    uids = {d["uid"] for d in datasources["datasources"]}
    dashboards = sorted((ROOT / "grafana/dashboards").glob("*.json"))
    if not dashboards:
        fail("no dashboards")
    for path in dashboards:
        d = json.loads(path.read_text())
        for p in d["panels"]:
            refs = [p.get("datasource")] + [t.get("datasource") for t in p.get("targets", [])]
            for ref in refs:
                if not ref or ref.get("uid") not in uids:
                    fail(f"{path.name}: panel {p['title']!r} uses datasource {ref}, not one of {sorted(uids)}")
        for v in d["templating"]["list"]:
            if v["type"] == "query" and v["datasource"]["uid"] not in uids:
                fail(f"{path.name}: variable {v['name']} uses an unprovisioned datasource")
    print(f"grafana check: provisioning valid; {len(dashboards)} dashboards use datasource {sorted(uids)}")


if __name__ == "__main__":
    main()
