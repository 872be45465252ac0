"""`status`: the phones registered on each server, collected through Ansible, as the JSON file
the report site reads for the Ramais screen (Terminal = server, Endereço = the phone's IP).

state/status/registrations.json:
{"collected_at": "2026-05-01T12:00:00Z",
 "servers": {"pbx-sp-01": {"ok": true, "error": "", "contacts": 12}},
 "endpoints": {"acme_2001": {"server": "pbx-sp-01", "address": "203.0.113.7",
                             "user_agent": "Yealink SIP-T46U", "status": "Avail"}}}
"""

from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pabx.deploy.records import utc_now
from pabx.deploy.runner import Progress, run_playbook
from pabx.deploy.targets import TargetKind, resolve_target
from pabx.errors import require_known
from pabx.loader import load_valid_repository
from pabx.loader.layout import state_dir

PLAYBOOK = "status.yml"
STATUS_FILE = Path("status") / "registrations.json"
# `pjsip show contacts`: "  Contact:  <aor>/<uri> <hash> <status> <rtt>" (the aor/uri column is
# cut at 46 characters, so the full URI comes from the registrar's database when it has it)
_CONTACT = re.compile(
    r"^\s*Contact:\s+(?P<aor>[^/<\s]+)/(?P<uri>\S+)\s+(?P<hash>[0-9a-f]{10})\s+(?P<status>\S+)"
)
_REGISTRAR = re.compile(r"^/registrar/contact/(?P<aor>[^;]+);@(?P<hash>[0-9a-f]+):\s*(?P<json>\{.*\})\s*$")


@dataclass
class Registration:
    endpoint: str
    server: str
    address: str
    user_agent: str
    status: str
    uri: str = field(default="", compare=False)

    def to_json(self) -> dict[str, str]:
        return {
            "server": self.server,
            "address": self.address,
            "user_agent": self.user_agent,
            "status": self.status,
        }


def address_of(uri: str) -> str:
    """The host of a SIP URI: sip:acme_2001@203.0.113.7:5060;ob -> 203.0.113.7 ([v6] kept bare)."""
    rest = re.sub(r"^sips?:", "", uri).split(";", 1)[0].split("?", 1)[0]
    host = rest.rsplit("@", 1)[-1]
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.split(":", 1)[0]


def parse_registrations(server: str, contacts: str, registrar: str) -> list[Registration]:
    """Phones registered on one server, from `pjsip show contacts` and `database show
    registrar/contact` (trunks' static contacts are not phones and are left out)."""
    agents: dict[str, dict[str, Any]] = {}
    for line in registrar.splitlines():
        match = _REGISTRAR.match(line.strip())
        if match:
            try:
                agents[match.group("hash")[:10]] = {
                    **json.loads(match.group("json")),
                    "aor": match.group("aor"),
                }
            except ValueError:
                continue
    found: list[Registration] = []
    for line in contacts.splitlines():
        match = _CONTACT.match(line.rstrip("\r"))
        if not match or match.group("aor").startswith("<"):
            continue
        entry = agents.get(match.group("hash"))
        if entry is None:
            continue  # not in the registrar: a static contact (a trunk), not a phone
        uri = str(entry.get("uri") or match.group("uri"))
        endpoint = str(entry.get("endpoint") or match.group("aor"))
        found.append(
            Registration(
                endpoint,
                server,
                address_of(uri) or str(entry.get("via_addr") or ""),
                str(entry.get("user_agent") or ""),
                match.group("status"),
                uri,
            )
        )
    return found


@dataclass
class StatusResult:
    path: Path
    data: dict[str, Any]


def collect_status(
    repo_root: Path,
    servers: list[str] | None = None,
    target: TargetKind | str = TargetKind.SSH,
    out: Path | None = None,
    progress: Progress | None = None,
) -> StatusResult:
    root = repo_root.resolve()
    repo, _ = load_valid_repository(root)
    where = resolve_target(root, repo, target)
    selected = list(servers or []) or sorted(repo.servers)
    require_known(selected, repo.servers)
    workdir = state_dir(root) / "deploy" / "status" / uuid.uuid4().hex[:8]
    result = run_playbook(
        PLAYBOOK,
        where.inventory,
        {},
        workdir,
        limit=selected,
        forks=min(len(selected), 20),
        progress=progress,
    )
    endpoints: dict[str, dict[str, str]] = {}
    server_info: dict[str, dict[str, Any]] = {}
    for name in selected:
        host = result.hosts.get(name)
        if host is None or host.outcome not in ("ok", "skipped"):
            server_info[name] = {"ok": False, "error": host.error if host else "no answer", "contacts": 0}
            continue
        found = parse_registrations(
            name, str(host.data.get("contacts") or ""), str(host.data.get("registrar") or "")
        )
        for registration in found:
            endpoints[registration.endpoint] = registration.to_json()
        skipped = host.outcome == "skipped"
        server_info[name] = {
            "ok": not skipped,
            "error": "no Asterisk CLI on this target" if skipped else "",
            "contacts": len(found),
        }
    data = {
        "collected_at": utc_now(),
        "servers": dict(sorted(server_info.items())),
        "endpoints": dict(sorted(endpoints.items())),
    }
    path = out if out is not None else state_dir(root) / STATUS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return StatusResult(path, data)
