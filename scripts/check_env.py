#!/usr/bin/env python3
"""Checks that README, .env.example and docker-compose.yml agree about the settings:

- every variable docker-compose.yml reads (`${VAR...}`) is offered in .env.example (set or commented);
- every variable in .env.example is either one the compose file reads or one the daemon reads, and the
  daemon's are in README's configuration table (compose-only ones, like the InfluxDB admin user or
  Grafana's port, are explained in .env.example itself);
- the variables the compose file requires (`${VAR:?...}`) are set, not commented, in .env.example;
- the profiles COMPOSE_PROFILES names in .env.example (read by Compose itself) exist in the compose file,
  and README names each of them.

Exit 1 with one line per disagreement.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
compose = (ROOT / "docker-compose.yml").read_text()
env_example = (ROOT / ".env.example").read_text()
readme = (ROOT / "README.md").read_text()

compose_vars = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", compose))
required = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*):\?", compose))
offered = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", env_example, re.M))
set_in_example = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", env_example, re.M))
documented = set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)(?:_<NAME>)?` \|", readme, re.M))
# Per-person variables are documented by their pattern (`GOOGLE_REFRESH_TOKEN_<NAME>` in the USERS row).
per_person = re.compile(r"^GOOGLE_REFRESH_TOKEN_[A-Z0-9_]+$")

# Read by Compose itself, not by the file or the daemon.
compose_own = {"COMPOSE_PROFILES"}

problems = []
profiles = {p.strip() for line in re.findall(r"^\s+profiles: \[([^\]]*)\]", compose, re.M) for p in line.split(",")}
chosen = re.search(r"^COMPOSE_PROFILES=(.*)$", env_example, re.M)
if not chosen:
    problems.append(".env.example does not set COMPOSE_PROFILES (which InfluxDB the compose file starts)")
else:
    for p in filter(None, (x.strip() for x in chosen.group(1).split(","))):
        if p not in profiles:
            problems.append(f".env.example's COMPOSE_PROFILES names {p}, which docker-compose.yml does not define")
for p in sorted(profiles):
    if f"`{p}`" not in readme:
        problems.append(f"docker-compose.yml defines the profile {p}, which README does not name")
offered -= compose_own
for v in sorted(compose_vars - offered):
    problems.append(f"docker-compose.yml reads {v}, but .env.example does not offer it")
for v in sorted(required - set_in_example):
    problems.append(f"docker-compose.yml requires {v}, but .env.example leaves it commented out")
for v in sorted(offered - compose_vars):
    if per_person.match(v):
        continue
    if v not in documented:
        problems.append(f".env.example offers {v}, which neither the compose file reads nor README documents")
daemon_vars = offered - compose_vars - {v for v in offered if per_person.match(v)}
for v in sorted(daemon_vars - documented):
    problems.append(f"{v} (passed to the daemon through env_file) is missing from README's configuration table")

for p in problems:
    print(f"env check: {p}")
if problems:
    sys.exit(1)
print(f"env check: README, .env.example and docker-compose.yml agree ({len(offered)} settings)")
