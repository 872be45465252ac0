"""Missed-call notices ("<caller> te ligou") from the CDR store.

A call (one linkedid) is missed when no leg of it was ANSWERED and some extension rang
(`pabx.cdr.analytics.build_calls`: a ring-all queue that someone answered is not missed). Each
rung extension with an e-mail gets one notice per call, ever: the event key
`te-ligou:<linkedid>:<tenant>/<extension>` is recorded in the outbox, and a call already covered
(by a single notice or by a digest) is never mailed again. With `digest`, one e-mail per
extension per run lists its new missed calls.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pabx.cdr.analytics import build_calls
from pabx.cdr.dataset import own_ddds, platform_timezone
from pabx.cdr.store import connect, create_cdr_view, create_fragment_views
from pabx.loader import Repository
from pabx.mail import compose
from pabx.mail.events import common_context, sender_of
from pabx.mail.model import Draft, Kind
from pabx.mail.outbox import Outbox
from pabx.model import Status, Tenant
from pabx.report import fmt

_CLID = re.compile(r'^\s*"?(?P<name>[^"<]*?)"?\s*<(?P<number>[^>]*)>\s*$')


@dataclass(frozen=True)
class MissedCall:
    call_id: str  # linkedid
    tenant: str
    extension: str
    caller: str  # the caller's number as the CDR has it (src)
    caller_name: str | None  # from clid, when it says more than the number
    start: dt.datetime  # UTC

    @property
    def event_key(self) -> str:
        return f"te-ligou:{self.call_id}:{self.tenant}/{self.extension}"


def missed_calls(repo: Repository, store: Path, date_from: dt.date, date_to: dt.date) -> list[MissedCall]:
    """Missed calls starting on local dates [date_from, date_to], one per rung extension."""
    con = connect()
    try:
        utc_from, utc_to = date_from - dt.timedelta(days=2), date_to + dt.timedelta(days=2)
        create_fragment_views(con, store, utc_from=utc_from, utc_to=utc_to)
        create_cdr_view(con, store, utc_from=utc_from, utc_to=utc_to)  # the legs, for the caller's name
        build_calls(
            con,
            timezone=platform_timezone(repo),
            local_from=date_from,
            local_to=date_to,
            own_ddd=own_ddds(repo),
        )
        rows = con.execute(
            "SELECT call_id, tenant, unnest(list_sort(rung)) AS ext, caller, start_utc FROM calls "
            "WHERE NOT answered AND len(rung) > 0 AND local_day BETWEEN ? AND ? "
            "ORDER BY start_utc, call_id, ext",
            [date_from, date_to],
        ).fetchall()
        names: dict[str, str] = {}
        if rows:
            first = min(r[4] for r in rows)
            last = max(r[4] for r in rows)
            names = dict(
                con.execute(
                    "SELECT coalesce(nullif(linkedid, ''), nullif(uniqueid, ''), "
                    "channel || '@' || CAST(start AS VARCHAR)) AS call_id, arg_min(clid, start) "
                    "FROM cdr WHERE start >= ? AND start <= ? GROUP BY 1",
                    [first, last],
                ).fetchall()
            )
    finally:
        con.close()
    out = []
    for call_id, tenant, ext, caller, start in rows:
        number = str(caller or "")
        out.append(
            MissedCall(
                str(call_id),
                str(tenant),
                str(ext),
                number,
                caller_name(names.get(str(call_id)), number),
                start.astimezone(dt.UTC),
            )
        )
    return out


def caller_name(clid: str | None, number: str) -> str | None:
    """'"Maria Souza" <11987654321>' -> 'Maria Souza'; None when it only repeats the number."""
    if not clid:
        return None
    match = _CLID.match(clid)
    name = (match.group("name") if match else clid).strip().strip('"').strip()
    if not name or name == number or name.lstrip("+").isdigit():
        return None
    return name


def format_number(number: str) -> str:
    """'11987654321' / '+5511987654321' / '011987654321' -> '(11) 98765-4321'; others as they are."""
    digits = number.strip()
    if digits.startswith("+55"):
        digits = digits[3:]
    elif digits.startswith("0") and len(digits) in (11, 12):
        digits = digits[1:]
    if digits.isdigit() and len(digits) in (10, 11) and digits[0] != "0":
        return fmt.phone(digits)
    return number.strip()


def timezone_label(tz: str) -> str:
    return "horário de Brasília" if tz == "America/Sao_Paulo" else f"fuso {tz}"


def _call_view(call: MissedCall, tenant: Tenant, tz: str) -> dict[str, str]:
    inside = tenant.extension(call.caller) if call.caller.isdigit() else None
    if inside is not None:  # an internal call: the extension's name says who
        label = call.caller_name or inside.name
        full = f"{label} (ramal {call.caller})"
    else:
        number = format_number(call.caller) if call.caller else ""
        label = call.caller_name or number or "Número não identificado"
        full = f"{call.caller_name} ({number})" if call.caller_name and number else label
    return {"caller_label": label, "caller_full": full, "when": fmt.datetime_br(call.start, tz)}


@dataclass
class NotifyResult:
    calls: int = 0  # missed calls x rung extensions seen
    queued: list[int] = field(default_factory=list)  # outbox ids queued now
    already: int = 0  # calls already covered by an earlier notice
    without_email: int = 0  # rung extensions without an e-mail (or gone from the repository)


def notice_drafts(repo: Repository, calls: Sequence[MissedCall], *, digest: bool) -> tuple[list[Draft], int]:
    """Drafts for `calls` (not yet filtered against the outbox); and how many calls have nobody
    to mail (extension without e-mail, tenant removido or gone)."""
    env = compose.environment(repo.root)
    tz = platform_timezone(repo)
    base = {**common_context(repo), "timezone_label": timezone_label(tz)}
    sender = sender_of(repo)
    groups: dict[tuple[str, str], list[MissedCall]] = defaultdict(list)
    nobody = 0
    for call in calls:
        tenant = repo.tenants.get(call.tenant)
        ext = tenant.extension(call.extension) if tenant else None
        if tenant is None or tenant.status is Status.REMOVIDO or ext is None or not ext.email:
            nobody += 1
            continue
        groups[(call.tenant, call.extension)].append(call)
    drafts = []
    for (slug, number), group in sorted(groups.items()):
        tenant = repo.tenants[slug]
        ext = tenant.extension(number)
        assert ext is not None and ext.email
        context: dict[str, Any] = {
            **base,
            "tenant_name": tenant.name,
            "extension_number": number,
            "extension_name": ext.name,
        }
        views = [(call, _call_view(call, tenant, tz)) for call in group]
        if digest and len(group) > 1:
            shown = compose.render(env, "te-ligou-resumo", {**context, "calls": [v for _, v in views]})
            keys = sorted(c.event_key for c in group)
            digest_id = hashlib.sha256("\n".join(keys).encode()).hexdigest()[:16]
            drafts.append(
                Draft(
                    key=f"te-ligou-resumo:{slug}/{number}:{digest_id}",
                    kind=Kind.MISSED_CALL,
                    sender=sender,
                    recipient=str(ext.email),
                    subject=shown.subject,
                    body_text=shown.text,
                    body_html=shown.html,
                    tenant=slug,
                    covers=tuple(keys),
                )
            )
            continue
        for call, view in views:
            shown = compose.render(env, "te-ligou", {**context, "call": view})
            drafts.append(
                Draft(
                    key=call.event_key,
                    kind=Kind.MISSED_CALL,
                    sender=sender,
                    recipient=str(ext.email),
                    subject=shown.subject,
                    body_text=shown.text,
                    body_html=shown.html,
                    tenant=slug,
                )
            )
    return drafts, nobody


def queue_missed(
    repo: Repository, outbox: Outbox, calls: Sequence[MissedCall], *, digest: bool
) -> NotifyResult:
    """Queue the notices of the calls no earlier notice covers."""
    result = NotifyResult(calls=len(calls))
    covered = outbox.covered(c.event_key for c in calls)
    fresh = [c for c in calls if c.event_key not in covered]
    result.already = len(calls) - len(fresh)
    drafts, result.without_email = notice_drafts(repo, fresh, digest=digest)
    result.queued = [ident for ident in outbox.enqueue_many(drafts) if ident is not None]
    return result
