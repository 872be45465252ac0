"""extensions.conf: the dialplan.

Server-wide contexts (pabx-*) classify dialed numbers, check plan/extension/status/limits,
pick the trunk by the route of the caller-ID number and take calls from carriers; each tenant's
contexts (t_<slug>_*) hold its extensions, queues, IVRs, voicemail and DIDs. Every call sets
`CDR(userfield)` = `<direction>:<class>` and runs with the tenant as accountcode (SPEC 9).

Which tenant a phone belongs to, its caller ID, route and allowed classes come from channel
variables its endpoint sets (pjsip set_var), never from anything the phone sends.
"""

from __future__ import annotations

from pabx.model import CALL_CLASSES, CallClass, DestinationKind, Status, Trunk, split_destination
from pabx.model.trunk import NumberFormat
from pabx.render import naming
from pabx.render.conf import Context, Exten
from pabx.render.escape import token
from pabx.render.generators import RenderContext, generator
from pabx.render.pjsip import class_list
from pabx.render.view import ServerView, TenantView

OUTBOUND_RING_S = 120
GEOGRAPHIC = (CallClass.LOCAL_FIXO, CallClass.LOCAL_MOVEL, CallClass.LDN_FIXO, CallClass.LDN_MOVEL)

# Why a call is refused -> Q.850 cause. The trace shows PABX_DENY; the CDR keeps the cause.
# Refusals are reached by Gosub (never a plain Goto), so the CDR's dst stays the number dialed.
DENIALS: dict[str, tuple[int, str]] = {
    "status": (21, "tenant status does not allow outbound calls"),
    "plan": (21, "call class not allowed by the plan of the tenant"),
    "extension": (21, "call class not allowed for this extension"),
    "callerid": (21, "no caller ID: the tenant owns no number to present"),
    "limit": (34, "concurrent-call limit of the tenant reached"),
    "collect": (21, "outbound collect calls (a cobrar) are blocked"),
    "collect-in": (21, "collect call to a number without reverse billing (tarifação reversa)"),
    "route": (21, "the route has no trunk for this call class"),
    "trunk": (38, "the trunk of the route is not carried by this server"),
    "invalid": (1, "number not recognized"),
    "unknown-did": (1, "number not served by this platform"),
    "suspended": (21, "tenant service suspended (inativo)"),
}


@generator("extensions.conf")
def generate(view: ServerView, rc: RenderContext) -> dict[str, str]:
    files: dict[str, str] = {}
    tenant_files = []
    for tv in view.tenants:
        rel = naming.tenant_file(tv.slug, "extensions.conf")
        files[rel] = rc.template("extensions_tenant.conf.j2").render(
            tenant=tv.slug, contexts=tenant_contexts(tv)
        )
        tenant_files.append(naming.include_path(rel))
    files["extensions.conf"] = rc.template("extensions.conf.j2").render(
        server=view.name, contexts=server_contexts(view), tenant_files=tenant_files
    )
    return files


# ---------------------------------------------------------------- server-wide contexts


def server_contexts(view: ServerView) -> list[Context]:
    contexts = [
        emergency_context(view),
        emergency_call_context(),
        outbound_context(view),
        out_context(),
        deny_context(),
        invalid_context(),
        inbound_checks_context(),
        suspended_context(),
    ]
    contexts += [route_context(name, view) for name in view.routes]
    contexts += [trunk_context(name, trunk) for name, trunk in view.trunks.items()]
    did = Context("pabx-did", comment="DIDs of the tenants on this server; unknown ones last")
    did.includes = [naming.ctx(tv.slug, "did") for tv in view.tenants] + ["pabx-did-unknown"]
    unknown = Context("pabx-did-unknown")
    for pattern in ("_X.", "_+X."):
        unknown.exten(pattern).then("Set", "CDR(userfield)=entrada:ramal").then(
            "Gosub", "pabx-deny,unknown-did,1"
        )
    contexts += [did, unknown]
    return contexts


def emergency_context(view: ServerView) -> Context:
    c = Context("pabx-emergency", comment="190-199: always reachable, whatever status, plan or limits")
    for number in sorted(view.platform.dialing.emergency_numbers):
        e = c.exten(number)
        _assign(e, f"PABX_CLASS=servicos,PABX_TO_REST={token(number)}")
        e.then("Gosub", "pabx-emergency-call,s,1")
        _dial_out(e)
    return c


def _dial_out(e: Exten) -> None:
    """Dial what the route chose, from the dialed extension itself (the CDR keeps it as dst)."""
    e.then("Dial", f"${{PABX_DIAL}},{OUTBOUND_RING_S}").then("Hangup")


def emergency_call_context() -> Context:
    c = Context("pabx-emergency-call")
    e = c.exten("s")
    e.then("Set", "CDR(userfield)=saida:servicos")
    e.then("Set", 'CALLERID(num)=${IF($["${PABX_CID}" = ""]?anonymous:${PABX_CID})}')
    e.then("Set", "CALLERID(name)=${CALLERID(num)}")
    e.then("GotoIf", '$["${PABX_ROUTE}" = ""]?pabx-deny,route,1')
    e.then("Gosub", "pabx-route-${PABX_ROUTE},servicos,1")
    e.then("Return")
    return c


def _assign(e: Exten, assignments: str) -> None:
    """One Set() per `VAR=value` (commas only separate assignments; no value holds one)."""
    for assignment in _split_top_level(assignments):
        e.then("Set", assignment)


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside ${...} / $[...] (an IF() inside a value keeps its own commas)."""
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch in "{[(":
            depth += 1
        elif ch in "}])":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return parts


def _outbound_patterns(ddd_without_zero: bool) -> list[tuple[str, str]]:
    """(pattern, assignments) for every dialed form of domain/brazil.md."""
    same_ddd = '${{IF($["{ddd}" = "${{PABX_DDD}}"]?{local}:{ldn})}}'
    rows = [
        ("_[2-5]XXXXXXX", "PABX_CLASS=local_fixo,PABX_TO_DDD=${PABX_DDD},PABX_TO_SUB=${EXTEN}"),
        ("_9XXXXXXXX", "PABX_CLASS=local_movel,PABX_TO_DDD=${PABX_DDD},PABX_TO_SUB=${EXTEN}"),
        ("_0ZZ[2-5]XXXXXXX", "PABX_CLASS=ldn_fixo,PABX_TO_DDD=${EXTEN:1:2},PABX_TO_SUB=${EXTEN:3}"),
        ("_0ZZ9XXXXXXXX", "PABX_CLASS=ldn_movel,PABX_TO_DDD=${EXTEN:1:2},PABX_TO_SUB=${EXTEN:3}"),
        (
            "_0ZXZZ[2-5]XXXXXXX",
            "PABX_CLASS=ldn_fixo,PABX_TO_CSP=${EXTEN:1:2},PABX_TO_DDD=${EXTEN:3:2},PABX_TO_SUB=${EXTEN:5}",
        ),
        (
            "_0ZXZZ9XXXXXXXX",
            "PABX_CLASS=ldn_movel,PABX_TO_CSP=${EXTEN:1:2},PABX_TO_DDD=${EXTEN:3:2},PABX_TO_SUB=${EXTEN:5}",
        ),
        (
            "_+55ZZ[2-5]XXXXXXX",
            "PABX_CLASS="
            + same_ddd.format(ddd="${EXTEN:3:2}", local="local_fixo", ldn="ldn_fixo")
            + ",PABX_TO_DDD=${EXTEN:3:2},PABX_TO_SUB=${EXTEN:5}",
        ),
        (
            "_+55ZZ9XXXXXXXX",
            "PABX_CLASS="
            + same_ddd.format(ddd="${EXTEN:3:2}", local="local_movel", ldn="ldn_movel")
            + ",PABX_TO_DDD=${EXTEN:3:2},PABX_TO_SUB=${EXTEN:5}",
        ),
        ("_0[359]00XXXXXX", "PABX_CLASS=0300,PABX_TO_REST=${EXTEN:1}"),
        ("_0[359]00XXXXXXX", "PABX_CLASS=0300,PABX_TO_REST=${EXTEN:1}"),
        ("_0800XXXXXX", "PABX_CLASS=0800,PABX_TO_REST=${EXTEN:1}"),
        ("_0800XXXXXXX", "PABX_CLASS=0800,PABX_TO_REST=${EXTEN:1}"),
        ("_1XX", "PABX_CLASS=servicos,PABX_TO_REST=${EXTEN}"),
        ("_10XXX", "PABX_CLASS=servicos,PABX_TO_REST=${EXTEN}"),
        ("_00ZXZXXXX.", "PABX_CLASS=ldi,PABX_TO_CSP=${EXTEN:2:2},PABX_TO_REST=${EXTEN:4}"),
        ("_+[1-46-9]X.", "PABX_CLASS=ldi,PABX_TO_CSP=,PABX_TO_REST=${EXTEN:1}"),
        ("_+5[0-46-9]X.", "PABX_CLASS=ldi,PABX_TO_CSP=,PABX_TO_REST=${EXTEN:1}"),
    ]
    if ddd_without_zero:
        rows += [
            (
                "_ZZ[2-5]XXXXXXX",
                "PABX_CLASS="
                + same_ddd.format(ddd="${EXTEN:0:2}", local="local_fixo", ldn="ldn_fixo")
                + ",PABX_TO_DDD=${EXTEN:0:2},PABX_TO_SUB=${EXTEN:2}",
            ),
            (
                "_ZZ9XXXXXXXX",
                "PABX_CLASS="
                + same_ddd.format(ddd="${EXTEN:0:2}", local="local_movel", ldn="ldn_movel")
                + ",PABX_TO_DDD=${EXTEN:0:2},PABX_TO_SUB=${EXTEN:2}",
            ),
        ]
    return rows


COLLECT_PATTERNS = (  # (pattern, the class the call would have had: it goes on the refused CDR)
    ("_9090[2-5]XXXXXXX", "local_fixo"),
    ("_90909XXXXXXXX", "local_movel"),
    ("_90ZXZZ[2-5]XXXXXXX", "ldn_fixo"),
    ("_90ZXZZ9XXXXXXXX", "ldn_movel"),
)


def outbound_context(view: ServerView) -> Context:
    c = Context("pabx-outbound", comment="dialed form -> call class (domain/brazil.md); then pabx-out")
    for pattern, assignments in _outbound_patterns(view.platform.dialing.accept_ddd_without_zero):
        e = c.exten(pattern)
        _assign(e, assignments)
        e.then("Gosub", "pabx-out,s,1")
        _dial_out(e)
    for pattern, call_class in COLLECT_PATTERNS:
        e = c.exten(pattern).then("Set", f"CDR(userfield)=saida:{call_class}")
        e.then("Gosub", "pabx-deny,collect,1")
    return c


def out_context() -> Context:
    c = Context(
        "pabx-out", comment="checks in order: status, plan, extension, caller ID, limit; then the route"
    )
    e = c.exten("s")
    e.then("Set", "CDR(userfield)=saida:${PABX_CLASS}")
    e.then("Gosub", "t_${PABX_TENANT}_vars,s,1")
    e.then("GotoIf", '$["${PABX_STATUS}" = "inativo"]?pabx-suspended,s,1')
    e.then("GotoIf", '$["${PABX_STATUS}" != "ativo"]?pabx-deny,status,1')
    e.then("GotoIf", '$[${REGEX("/${PABX_CLASS}/" ${PABX_PLAN_CLASSES})} = 0]?pabx-deny,plan,1')
    e.then("GotoIf", '$[${REGEX("/${PABX_CLASS}/" ${PABX_EXT_CLASSES})} = 0]?pabx-deny,extension,1')
    e.then("GotoIf", '$["${PABX_CID}" = ""]?pabx-deny,callerid,1')
    e.then("Set", "GROUP(pabx_tenant)=${PABX_TENANT}")
    e.then("GotoIf", "$[${GROUP_COUNT(${PABX_TENANT}@pabx_tenant)} > ${PABX_LIMIT}]?pabx-deny,limit,1")
    e.then("Set", "CALLERID(num)=${PABX_CID}")
    e.then("Set", "CALLERID(name)=${PABX_CID}")
    e.then("Gosub", "pabx-route-${PABX_ROUTE},${PABX_CLASS},1")
    e.then("Return")
    return c


def deny_context() -> Context:
    c = Context(
        "pabx-deny", comment="refusals: PABX_DENY names the reason, the hangup cause tells the caller"
    )
    for reason, (cause, why) in DENIALS.items():
        if reason == "suspended":
            continue
        c.exten(reason).then("Set", f"PABX_DENY={reason}").then("NoOp", why).then("Hangup", str(cause))
    return c


def invalid_context() -> Context:
    c = Context("pabx-invalid", comment="anything a phone dials that matched nothing before")
    for pattern in ("_X.", "_+X.", "_*X."):
        c.exten(pattern).then("Set", "CDR(userfield)=interna:ramal").then("Gosub", "pabx-deny,invalid,1")
    return c


def inbound_checks_context() -> Context:
    c = Context("pabx-in", comment="Gosub for calls from carriers: status and concurrent-call limit")
    e = c.exten("s")
    e.then("GotoIf", '$["${PABX_STATUS}" = "inativo"]?pabx-suspended,s,1')
    e.then("Set", "GROUP(pabx_tenant)=${PABX_TENANT}")
    e.then("GotoIf", "$[${GROUP_COUNT(${PABX_TENANT}@pabx_tenant)} > ${PABX_LIMIT}]?pabx-deny,limit,1")
    e.then("Return")
    return c


def suspended_context() -> Context:
    cause, why = DENIALS["suspended"]
    c = Context("pabx-suspended", comment="inativo: answer with the suspension notice, then hang up")
    e = c.exten("s")
    e.then("Set", "PABX_DENY=suspended").then("Answer").then("Playback", "pabx/servico-suspenso")
    e.then("NoOp", why).then("Hangup", str(cause))
    return c


def dialed_number(call_class: CallClass, trunk: Trunk) -> str:
    """The number as the trunk expects it (trunk's number_format), from the PABX_TO_* variables."""
    fmt = trunk.number_format
    csp = trunk.csp or ""
    if call_class in GEOGRAPHIC:
        if fmt is NumberFormat.E164:
            return "+55${PABX_TO_DDD}${PABX_TO_SUB}"
        if call_class in (CallClass.LOCAL_FIXO, CallClass.LOCAL_MOVEL):
            return "0${PABX_TO_DDD}${PABX_TO_SUB}"  # a local call carries no CSP, but keeps its DDD
        if fmt is NumberFormat.CSP:
            return f"0{csp}${{PABX_TO_DDD}}${{PABX_TO_SUB}}"
        return "0${PABX_TO_DDD}${PABX_TO_SUB}"
    if call_class in (CallClass.C0300, CallClass.C0800):
        return "+55${PABX_TO_REST}" if fmt is NumberFormat.E164 else "0${PABX_TO_REST}"
    if call_class is CallClass.SERVICOS:
        return "${PABX_TO_REST}"
    # LDI
    if fmt is NumberFormat.E164:
        return "+${PABX_TO_REST}"
    if fmt is NumberFormat.CSP or not csp:
        return f"00{csp or '${PABX_TO_CSP}'}${{PABX_TO_REST}}"
    return f'00${{IF($["${{PABX_TO_CSP}}" = ""]?{csp}:${{PABX_TO_CSP}})}}${{PABX_TO_REST}}'


def route_context(route_name: str, view: ServerView) -> Context:
    route = view.routes[route_name]
    c = Context(
        naming.route_context(route_name), comment=f"Gosub: route {route_name}, the trunk of each class"
    )
    for call_class in CALL_CLASSES:
        e = c.exten(call_class.value)
        trunk_name = route.trunk_for(call_class)
        if trunk_name is None:
            e.then("Goto", "pabx-deny,route,1")
        elif trunk_name not in view.trunks:
            e.then("Goto", "pabx-deny,trunk,1")
        else:
            number = dialed_number(call_class, view.trunks[trunk_name])
            endpoint = naming.trunk_endpoint(trunk_name)
            e.then("Set", f"PABX_DIAL=PJSIP/{number}@{endpoint}").then("Return")
    return c


def trunk_context(name: str, trunk: Trunk) -> Context:
    """Calls from a carrier: normalize the DID to DDD+number, note a collect call, go to pabx-did."""
    c = Context(naming.trunk_context(name), comment=f"calls from trunk {name}")
    header = trunk.collect_call_header
    collect = (
        f'PABX_COLLECT=${{IF($["${{PJSIP_HEADER(read,{token(header.name)})}}" = "{header.value}"]?1:0)}}'
        if header
        else "PABX_COLLECT=0"
    )
    forms = (
        ("_+55ZZXXXXXXXX", "${EXTEN:3}"),
        ("_+55ZZXXXXXXXXX", "${EXTEN:3}"),
        ("_55ZZXXXXXXXX", "${EXTEN:2}"),
        ("_55ZZXXXXXXXXX", "${EXTEN:2}"),
        ("_0ZZXXXXXXXX", "${EXTEN:1}"),
        ("_0ZZXXXXXXXXX", "${EXTEN:1}"),
        ("_ZZXXXXXXXX", "${EXTEN}"),
        ("_ZZXXXXXXXXX", "${EXTEN}"),
    )
    for pattern, did in forms:
        e = c.exten(pattern)
        e.then("Set", f"PABX_TRUNK={token(name)}").then("Set", f"PABX_DID={did}").then("Set", collect)
        e.then("Goto", "pabx-did,${PABX_DID},1")
    for pattern in ("_X.", "_+X."):
        c.exten(pattern).then("Set", "CDR(userfield)=entrada:ramal").then("Gosub", "pabx-deny,unknown-did,1")
    return c


# ---------------------------------------------------------------- tenant contexts

DEST_CLASS = {
    DestinationKind.EXTENSION: "ramal",
    DestinationKind.QUEUE: "fila",
    DestinationKind.IVR: "ura",
    DestinationKind.VOICEMAIL: "correio",
    DestinationKind.HANGUP: "ramal",
}


def goto_destination(slug: str, destination: str) -> tuple[str, str]:
    """(app, args) that send a call to a destination inside its tenant."""
    kind, target = split_destination(destination)
    if kind is DestinationKind.HANGUP:
        return "Hangup", "16"
    if kind is DestinationKind.VOICEMAIL:
        return "Goto", f"{naming.ctx(slug, 'voicemail')},{token(target)},1"
    return "Goto", f"{naming.ctx(slug, 'internal')},{token(target)},1"


def tenant_contexts(tv: TenantView) -> list[Context]:
    return [
        vars_context(tv),
        phones_context(tv),
        internal_context(tv),
        *[ivr_context(tv, i) for i in range(len(tv.tenant.ivrs))],
        voicemail_context(tv),
        did_context(tv),
    ]


def vars_context(tv: TenantView) -> Context:
    c = Context(naming.ctx(tv.slug, "vars"), comment="Gosub: the tenant's status, plan and limit")
    e = c.exten("s")
    _assign(
        e,
        f"PABX_TENANT={token(tv.slug)},PABX_STATUS={tv.tenant.status.value},PABX_PLAN={token(tv.tenant.plan)},"
        f"PABX_LIMIT={tv.plan.limits.concurrent_calls}",
    )
    e.then("Set", "PABX_PLAN_CLASSES=" + class_list(c.value for c in tv.plan.allowed_classes))
    e.then("Return")
    return c


def phones_context(tv: TenantView) -> Context:
    c = Context(
        naming.ctx(tv.slug, "phones"),
        comment=f"context of {tv.slug}'s phones (status {tv.tenant.status.value})",
    )
    c.includes = ["pabx-emergency", naming.ctx(tv.slug, "internal"), "pabx-outbound", "pabx-invalid"]
    return c


def _set_class(e: Exten, cls: str) -> None:
    """Keep the first direction:class of a call (entrada:ura stays when the IVR hands to a queue)."""
    e.then("GotoIf", '$["${CDR(userfield)}" != ""]?go')
    e.then("Set", f"CDR(userfield)=interna:{cls}")


def internal_context(tv: TenantView) -> Context:
    slug = tv.slug
    c = Context(naming.ctx(slug, "internal"), comment="extensions, queues and IVRs of the tenant")
    suspended = tv.tenant.status is Status.INATIVO
    ring = tv.platform_ring_s
    for ev in tv.extensions:
        ext = ev.ext
        e = c.exten(ext.number)
        _set_class(e, "ramal")
        if suspended:
            e.then("Gosub", "pabx-suspended,s,1", label="go")
            continue
        # PABX_DIALOPTS is "I" on calls from carriers: the callee's name never goes back to them
        e.then("Dial", f"PJSIP/{token(ev.endpoint)},{ring},${{PABX_DIALOPTS}}", label="go")
        if ext.voicemail:
            e.then("GotoIf", '$["${DIALSTATUS}" = "ANSWER"]?done')
            e.then(
                "VoiceMail",
                f'{token(ext.number)}@{naming.voicemail_context(slug)},${{IF($["${{DIALSTATUS}}" = "BUSY"]?b:u)}}',
            )
        e.then("Hangup", label="done" if ext.voicemail else None)
    for queue in tv.tenant.queues:
        e = c.exten(queue.number)
        _set_class(e, "fila")
        if suspended:
            e.then("Gosub", "pabx-suspended,s,1", label="go")
            continue
        e.then(
            "Queue",
            f"{naming.queue_name(slug, queue.number)},r${{PABX_DIALOPTS}},,,{queue.timeout}",
            label="go",
        )
        if queue.overflow:
            e.then(*goto_destination(slug, queue.overflow))
        else:
            e.then("Hangup")
    for ivr in tv.tenant.ivrs:
        e = c.exten(ivr.number)
        _set_class(e, "ura")
        if suspended:
            e.then("Gosub", "pabx-suspended,s,1", label="go")
        else:
            e.then("Goto", f"{naming.ctx(slug, 'ivr_' + ivr.number)},s,1", label="go")
    if tv.uses_voicemail and not suspended:
        c.exten("*97").then("VoiceMailMain", f"${{PABX_EXT}}@{naming.voicemail_context(slug)}").then("Hangup")
    return c


def ivr_context(tv: TenantView, index: int) -> Context:
    slug = tv.slug
    ivr = tv.tenant.ivrs[index]
    c = Context(naming.ctx(slug, "ivr_" + ivr.number), comment=f"IVR {ivr.number}")
    s = c.exten("s")
    s.then("Answer").then("Set", "PABX_TRIES=0")
    s.then("Background", token(ivr.greeting), label="menu").then("WaitExten", str(ivr.wait_s))
    for digit, destination in sorted(ivr.options.items()):
        c.exten(digit).then(*goto_destination(slug, destination))
    invalid = c.exten("i")
    if ivr.invalid:
        invalid.then(*goto_destination(slug, ivr.invalid))
    else:
        invalid.then("Playback", "option-is-invalid").then("Set", "PABX_TRIES=$[${PABX_TRIES} + 1]")
        invalid.then("GotoIf", "$[${PABX_TRIES} < 2]?s,menu").then("Hangup", "16")
    timeout = c.exten("t")
    if ivr.timeout:
        timeout.then(*goto_destination(slug, ivr.timeout))
    else:
        timeout.then("Hangup", "16")
    return c


def voicemail_context(tv: TenantView) -> Context:
    slug = tv.slug
    c = Context(naming.ctx(slug, "voicemail"), comment="leave a message in a box of the tenant")
    for ext in tv.tenant.extensions:
        if not ext.voicemail:
            continue
        e = c.exten(ext.number)
        _set_class(e, "correio")
        e.then("VoiceMail", f"{token(ext.number)}@{naming.voicemail_context(slug)},u", label="go").then(
            "Hangup"
        )
    return c


def did_context(tv: TenantView) -> Context:
    slug = tv.slug
    c = Context(naming.ctx(slug, "did"), comment="the tenant's numbers (DIDs), from any carrier")
    for entry in tv.numbers:
        if not entry.destination:
            continue
        kind, _ = split_destination(entry.destination)
        e = c.exten(entry.number)
        e.then("Gosub", f"{naming.ctx(slug, 'vars')},s,1")
        e.then("Set", f"CHANNEL(accountcode)={token(slug)}")
        e.then("Set", f"CONNECTEDLINE(num,i)={token(entry.number)}")
        e.then("Set", f"CONNECTEDLINE(name,i)={token(entry.number)}")
        e.then("Set", "PABX_DIALOPTS=I")
        e.then("Set", f"CDR(userfield)=entrada:{DEST_CLASS[kind]}")
        if not entry.reverse_billing:
            e.then("GosubIf", '$["${PABX_COLLECT}" = "1"]?pabx-deny,collect-in,1')
        e.then("Gosub", "pabx-in,s,1")
        e.then(*goto_destination(slug, entry.destination))
    return c
