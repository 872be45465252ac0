"""Trace a call through rendered Asterisk files: Batfish's traceroute, for a PBX.

`load_rendered(build/<server>)` reads the files a server loads (extensions.conf, pjsip.conf,
queues.conf, voicemail.conf, with their includes); `trace_call(rendered, CallSetup(...))`
places a call and returns every priority visited and the outcome. A call from a PJSIP endpoint
starts as res_pjsip does: the endpoint's context, its `callerid`, `accountcode` and `set_var`
applied, and a SIP 404 when the number is no extension there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pabx.dialplan.channel import Channel
from pabx.dialplan.config import Config, TextReader, parse_config, prefix_resolver
from pabx.dialplan.engine import Engine, EngineOptions
from pabx.dialplan.extensions import Dialplan, load_dialplan
from pabx.dialplan.functions import split_callerid
from pabx.dialplan.pjsip import PjsipObjects, pjsip_objects
from pabx.dialplan.result import HangupInfo, Outcome, TraceResult
from pabx.errors import Problem

UNALLOCATED = 1


@dataclass
class RenderedServer:
    """One Asterisk server's configuration as the tracer needs it."""

    dialplan: Dialplan
    pjsip: PjsipObjects | None = None
    queues: Config | None = None
    voicemail: Config | None = None

    @property
    def problems(self) -> list[Problem]:
        found = list(self.dialplan.problems)
        if self.pjsip is not None:
            found.extend(self.pjsip.problems)
        for config in (self.queues, self.voicemail):
            if config is not None:
                found.extend(config.problems)
        return found


def load_rendered(
    build_dir: Path,
    *,
    include_prefix: str = "pabx/",
    reader: TextReader | None = None,
) -> RenderedServer:
    """Parse `build_dir`'s entry files, reading `#include "pabx/..."` from `build_dir` itself.

    Only extensions.conf is required; pjsip.conf, queues.conf and voicemail.conf are loaded when
    present and let the trace say whether a dialed endpoint, queue or mailbox exists.
    """
    resolver = prefix_resolver(build_dir, {include_prefix: build_dir})

    def load(name: str) -> Config | None:
        path = build_dir / name
        if reader is None and not path.exists():
            return None
        config = parse_config(path, resolver=resolver, reader=reader)
        if reader is not None and not config.files:
            return None
        return config

    extensions = load("extensions.conf")
    if extensions is None:
        extensions = Config(
            problems=[
                Problem(
                    str(build_dir / "extensions.conf"),
                    0,
                    1,
                    "",
                    "extensions.conf is missing",
                    "conf.unreadable",
                )
            ]
        )
    pjsip = load("pjsip.conf")
    return RenderedServer(
        dialplan=load_dialplan(extensions),
        pjsip=pjsip_objects(pjsip) if pjsip is not None else None,
        queues=load("queues.conf"),
        voicemail=load("voicemail.conf"),
    )


@dataclass(frozen=True)
class CallSetup:
    """The call to place.

    `endpoint`: the PJSIP endpoint the INVITE comes from (a phone `acme_2001`, a trunk
    `trunk_vivo-sp`); its context is used unless `context` is given. `exten`: the number in the
    Request-URI. `callerid_num`/`callerid_name`: what the caller sends (an endpoint's `callerid`
    option overrides it, as in Asterisk). `headers`: SIP headers of the INVITE. `group_counts`:
    calls already up per `group@category`. `digits`: keys pressed, one per prompt (`.` lets a
    prompt time out). `dial_statuses` / `queue_statuses`: go on past each Dial / Queue with these
    results, in order, instead of stopping there.
    """

    exten: str
    endpoint: str | None = None
    context: str | None = None
    callerid_num: str = ""
    callerid_name: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    group_counts: Mapping[str, int] = field(default_factory=dict)
    variables: Mapping[str, str] = field(default_factory=dict)
    digits: str = ""
    dial_statuses: tuple[str, ...] = ()
    queue_statuses: tuple[str, ...] = ()
    max_steps: int = 1000


def trace_call(server: RenderedServer | Dialplan, setup: CallSetup) -> TraceResult:
    """Place `setup`'s call on `server` and follow it to its outcome."""
    rendered = server if isinstance(server, RenderedServer) else RenderedServer(server)
    engine = Engine(
        rendered.dialplan,
        EngineOptions(
            digits=setup.digits,
            dial_statuses=setup.dial_statuses,
            queue_statuses=setup.queue_statuses,
            max_steps=setup.max_steps,
        ),
        pjsip=rendered.pjsip,
        queues=rendered.queues,
        voicemail=rendered.voicemail,
    )
    engine.call.preset_group_counts(dict(setup.group_counts))
    channel, refusal = _inbound_channel(rendered, setup)
    engine.add_channel(channel, "caller")
    outcome = refusal or engine.run(channel)
    return TraceResult(
        steps=engine.steps,
        outcome=outcome,
        callerid_num=channel.caller_num,
        callerid_name=channel.caller_name,
        accountcode=channel.accountcode,
        peeraccount=channel.peeraccount,
        userfield=channel.cdr_userfield,
        amaflags=channel.cdr_amaflags,
        cdr_variables=dict(channel.cdr_variables),
        groups=channel.group_memberships(),
        headers=list(channel.added_headers),
        continued=engine.continued,
        warnings=engine.warnings,
        answered=channel.answered,
        dst=channel.cdr_dst,
        dcontext=channel.cdr_dcontext,
    )


def _inbound_channel(rendered: RenderedServer, setup: CallSetup) -> tuple[Channel, Outcome | None]:
    endpoint_config = None
    if setup.endpoint is not None and rendered.pjsip is not None:
        endpoint_config = rendered.pjsip.endpoint(setup.endpoint)
    context = setup.context or (endpoint_config.get("context") if endpoint_config else None) or "default"
    exten = setup.exten.split(";", 1)[0] or "s"
    channel = Channel(
        name=f"PJSIP/{setup.endpoint}-00000001" if setup.endpoint else "Local/trace-00000001",
        context=context,
        exten=exten,
        endpoint=setup.endpoint,
        caller_num=setup.callerid_num,
        caller_name=setup.callerid_name,
        dnid=exten,
        inbound_headers=list(setup.headers),
        cdr_dst=exten,
        cdr_dcontext=context,
    )
    if endpoint_config is not None:
        configured = endpoint_config.get("callerid")
        if configured:
            channel.caller_name, channel.caller_num = split_callerid(configured)
        channel.accountcode = endpoint_config.get("accountcode") or ""
        channel.language = endpoint_config.get("language") or channel.language
        for assignment in endpoint_config.get_all("set_var"):
            name, _, value = assignment.partition("=")
            channel.set_variable(name.strip(), value.strip())
    for name, value in setup.variables.items():
        channel.set_variable(name, value)
    if setup.endpoint is None:
        return channel, None
    if rendered.pjsip is not None and endpoint_config is None:
        reason = f"endpoint '{setup.endpoint}' is not defined in pjsip.conf: Asterisk answers 401/403"
        return channel, Outcome("error", reason, context, exten, 1, error=reason)
    if not rendered.dialplan.exists(context, exten, 1, callerid=channel.caller_num):
        reason = f"no extension '{exten}' in [{context}]: res_pjsip answers 404 Not Found"
        return channel, Outcome(
            "hangup", reason, context, exten, 1, hangup=HangupInfo(UNALLOCATED, "rejected")
        )
    return channel, None
