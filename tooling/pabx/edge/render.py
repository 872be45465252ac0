"""The edge's files: kamailio.cfg, the db_text tables its htables load, dispatcher.list.

The tables are what changes when a tenant moves; Kamailio reloads them at run time
(`kamcmd htable.reload <table>`, `kamcmd dispatcher.reload`) with no restart, and calls in
progress keep going because in-dialog requests follow Record-Route, not the tables.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from pabx.edge.model import EdgeMap, edge_hosts, edge_map
from pabx.loader.repo import Repository
from pabx.model.inventory import HostVars
from pabx.render.env import make_environment
from pabx.render.naming import MANIFEST
from pabx.render.output import ServerResult, manifest, write_release

CONFIG = "kamailio.cfg"
DISPATCHER = "dispatcher.list"
DB_FOLDER = "db"
# htable name -> what it maps; each is a db_text table db/<name> loaded by the htable module
TABLES = {
    "did": "DID (DDD + número) → servidor",
    "tenant": "cliente (prefixo do usuário <cliente>_<ramal>) → servidor",
    "domain": "domínio SIP do cliente → servidor",
    "peer": "servidor ou tronco → conjunto do dispatcher",
    "carrier": "host da operadora (R-URI das chamadas de saída) → tronco",
    "source": "endereço de origem de uma operadora → tronco",
}
RELOAD_COMMANDS = tuple([f"htable.reload {name}" for name in TABLES] + ["dispatcher.reload"])


def _db_text_value(value: str) -> str:
    """db_text separates columns with ':' and escapes it (and the backslash) with a backslash."""
    return value.replace("\\", "\\\\").replace(":", "\\:").replace("\n", "\\n")


def _table(template: jinja2.Template, rows: dict[str, str] | dict[str, int]) -> str:
    escaped = [(_db_text_value(k), _db_text_value(str(v)), isinstance(v, int)) for k, v in rows.items()]
    return template.render(rows=escaped)


def render_edge(name: str, hostvars: HostVars, emap: EdgeMap, env: jinja2.Environment) -> dict[str, str]:
    """{path relative to build/<edge>/: text} for one edge host."""
    address = hostvars.pabx_edge_address or hostvars.pabx_sip_address or "0.0.0.0"
    table = env.get_template("kamailio/db_table.j2")
    peers = emap.peers
    rows: dict[str, dict[str, str] | dict[str, int]] = {
        "did": emap.dids,
        "tenant": emap.tenants,
        "domain": emap.domains,
        "peer": {p.name: p.set_id for p in peers.values()},
        "carrier": emap.carrier_hosts,
        "source": emap.carrier_sources,
    }
    files = {f"{DB_FOLDER}/{t}": _table(table, rows[t]) for t in TABLES}
    files[DISPATCHER] = env.get_template("kamailio/dispatcher.list.j2").render(
        servers=list(emap.servers.values()),
        carriers=list(emap.carriers.values()),
        server_set=SERVERS_SET,
    )
    files[CONFIG] = env.get_template("kamailio/kamailio.cfg.j2").render(
        name=name,
        address=address,
        port=hostvars.pabx_edge_port,
        etc=hostvars.pabx_kamailio_etc.rstrip("/"),
        ctl=hostvars.pabx_kamailio_ctl,
        tables=TABLES,
        server_set=SERVERS_SET,
        servers=list(emap.servers.values()),
    )
    return {rel: text.rstrip("\n") + "\n" for rel, text in sorted(files.items())}


# every server is also in this set, so `ds_is_from_list` tells a server's request from the outside
SERVERS_SET = 2**30 + 1


def render_edges(
    repo: Repository, env: jinja2.Environment | None = None, *, emap: EdgeMap | None = None
) -> dict[str, dict[str, str]]:
    """edge -> {relative path: text}, for every host of the inventory's `edge` group."""
    hosts = edge_hosts(repo)
    if not hosts:
        return {}
    env = env or make_environment(Path(repo.root))
    emap = emap or edge_map(repo)
    return {name: render_edge(name, hv, emap, env) for name, hv in hosts.items()}


def write_edges(
    repo: Repository, out: Path, revision: str, masked: bool, *, only: list[str] | None = None
) -> dict[str, ServerResult]:
    """Render and write build/<edge>/ for every edge host (or `only` these), with its manifest.

    The edge map holds no secret; it is rendered whole each time (50,000 DIDs take a fraction
    of a second) and only files whose content changed are rewritten.
    """
    hosts = edge_hosts(repo)
    wanted = [name for name in hosts if not only or name in only]
    if not wanted:
        return {}
    env = make_environment(Path(repo.root))
    emap = edge_map(repo)
    results: dict[str, ServerResult] = {}
    for name in wanted:
        files = render_edge(name, hosts[name], emap, env)
        extra = {MANIFEST: manifest(name, files, revision, masked)}
        written, removed = write_release(out / name, files, extra)
        results[name] = ServerResult(name, files, written, removed)
    return results
