"""Trace calls of a repository: pick the server, render it (masked, in memory), place the call.

The trace runs on the rendered files, never on the models: the models only say which server
serves a tenant or a DID, which endpoint a phone is, and which trunk brings a DID in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pabx.dialplan.result import TraceResult
from pabx.dialplan.trace import CallSetup, RenderedServer, load_rendered, trace_call
from pabx.errors import UserError
from pabx.loader.repo import Repository
from pabx.model import CallClass, Status
from pabx.render import naming, render_servers
from pabx.render.secrets import Secrets

BUILD = Path("/build")


@dataclass(frozen=True)
class TraceRequest:
    """What to trace; exactly one of `from_extension` ("tenant/ext") or `did` is set.

    `server`: the server the INVITE reaches (default: the tenant's, or the DID owner's); a carrier
    may send any number to any server that carries its trunk. `callerid_num`/`callerid_name`: who
    calls, as the carrier's From says (a phone's caller ID comes from its endpoint instead).
    """

    dial: str = ""
    from_extension: str | None = None
    did: str | None = None
    trunk: str | None = None
    server: str | None = None
    callerid_num: str = ""
    callerid_name: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    digits: str = ""
    dial_statuses: tuple[str, ...] = ()
    queue_statuses: tuple[str, ...] = ()
    calls_up: int = 0  # calls the tenant already has up (GROUP_COUNT), to see the limit


@dataclass(frozen=True)
class TraceReport:
    server: str
    endpoint: str
    exten: str
    result: TraceResult
    edge: str | None = None  # the SIP edge's hop in front of the server (pabx.edge), when there is one

    @property
    def refusal(self) -> str | None:
        """Why the dialplan refused the call (its PABX_DENY), or None."""
        reason = None
        for step in self.result.steps:
            text = step.substituted if step.substituted is not None else step.data
            if step.app == "Set" and text.startswith("PABX_DENY="):
                reason = text.partition("=")[2]
        return reason

    def to_json(self) -> dict[str, object]:
        return {
            "server": self.server,
            "endpoint": self.endpoint,
            "exten": self.exten,
            "refusal": self.refusal,
            **self.result.to_json(),
        } | ({"edge": self.edge} if self.edge is not None else {})


class ServerCache:
    """Rendered servers, parsed once per process (the isolation proof traces thousands of calls)."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self._files: dict[str, dict[str, str]] | None = None
        self._loaded: dict[str, RenderedServer] = {}

    def get(self, server: str) -> RenderedServer:
        if server not in self._loaded:
            if self._files is None:
                self._files = render_servers(self.repo, Secrets(None))
            self._loaded[server] = load_files(self._files[server])
        return self._loaded[server]


def load_files(files: Mapping[str, str]) -> RenderedServer:
    """A RenderedServer from an in-memory release (what render_servers returns for one server)."""

    def reader(path: Path) -> str:
        rel = path.relative_to(BUILD).as_posix()
        if rel not in files:
            raise FileNotFoundError(rel)
        return files[rel]

    return load_rendered(BUILD, reader=reader)


def trace(repo: Repository, request: TraceRequest, cache: ServerCache | None = None) -> TraceReport:
    cache = cache or ServerCache(repo)
    if request.server is not None and request.server not in repo.servers:
        raise UserError(
            f"server {request.server!r} does not exist (known: {', '.join(sorted(repo.servers))})"
        )
    if request.from_extension is not None:
        server, endpoint, exten = _from_extension(repo, request)
    elif request.did is not None:
        server, endpoint, exten = _from_carrier(repo, request)
    else:
        raise UserError("say where the call comes from: --from TENANT/EXT or --did NUMBER")
    setup = CallSetup(
        exten=exten,
        endpoint=endpoint,
        callerid_num=request.callerid_num,
        callerid_name=request.callerid_name,
        headers=request.headers,
        digits=request.digits,
        dial_statuses=request.dial_statuses,
        queue_statuses=request.queue_statuses,
        group_counts=_group_counts(repo, request),
    )
    edge = None
    if request.did is not None:
        from pabx.edge.model import edge_hop

        edge = edge_hop(repo, request.did)
    return TraceReport(server, endpoint, exten, trace_call(cache.get(server), setup), edge)


def _from_extension(repo: Repository, request: TraceRequest) -> tuple[str, str, str]:
    assert request.from_extension is not None
    slug, _, number = request.from_extension.partition("/")
    tenant = repo.tenants.get(slug)
    if tenant is None:
        raise UserError(f"tenant {slug!r} does not exist")
    if tenant.status is Status.REMOVIDO:
        raise UserError(f"tenant {slug!r} is removido: no endpoint of it is rendered anywhere")
    if tenant.extension(number) is None:
        raise UserError(f"tenant {slug!r} has no extension {number!r}")
    if not request.dial:
        raise UserError("--dial NUMBER is needed with --from")
    if request.server not in (None, tenant.server):
        raise UserError(f"{slug}/{number} registers on {tenant.server}, not on {request.server}")
    return tenant.server, naming.endpoint(slug, number), request.dial


def _from_carrier(repo: Repository, request: TraceRequest) -> tuple[str, str, str]:
    """The server and trunk a DID's call arrives on: the one asked for, else the owner's server; the
    trunk asked for, else the trunk of the number's route."""
    did = request.did or ""
    national = did.removeprefix("+55").removeprefix("0") if did.startswith(("+55", "0")) else did
    entry = repo.numbers.get(national)
    owner = repo.tenants.get(entry.owner) if entry and entry.owner else None
    trunk = request.trunk
    if trunk is not None and trunk not in repo.trunks:
        raise UserError(f"trunk {trunk!r} does not exist (known: {', '.join(sorted(repo.trunks))})")
    server = request.server
    if server is None and owner is not None and owner.status is not Status.REMOVIDO:
        server = owner.server
    if server is not None:
        if trunk is None:
            route = repo.routes.get(entry.route) if entry else None
            trunk = route.trunk_for(CallClass.LOCAL_FIXO) if route else None
            if trunk is None or server not in repo.trunks[trunk].servers:
                trunk = next((n for n, t in sorted(repo.trunks.items()) if server in t.servers), None)
        if trunk is None or server not in repo.trunks[trunk].servers:
            raise UserError(f"no trunk on {server} brings calls in (trunk {trunk!r})")
    else:
        candidates = [n for n, t in sorted(repo.trunks.items()) if trunk in (None, n) and t.servers]
        if not candidates:
            raise UserError("no trunk is carried by any server")
        trunk = candidates[0]
        server = sorted(repo.trunks[trunk].servers)[0]
    return server, naming.trunk_endpoint(trunk), did


def _group_counts(repo: Repository, request: TraceRequest) -> dict[str, int]:
    if not request.calls_up:
        return {}
    tenant = None
    if request.from_extension:
        tenant = request.from_extension.partition("/")[0]
    elif request.did:
        entry = repo.numbers.get(request.did.removeprefix("+55").lstrip("0"))
        tenant = entry.owner if entry else None
    return {f"{tenant}@pabx_tenant": request.calls_up} if tenant else {}
