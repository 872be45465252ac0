"""Realistic CDRs for a repository, written exactly as cdr_csv writes them for its cdr.conf.

Calls follow the rendered dialplan (read from `render_servers` output, masked): outbound calls
use the Dial string of the caller ID's route for their class and present the caller ID of the
extension or tenant; the CDR's dst/dcontext are where Dial runs (the dialed number in
`t_<slug>_phones` when the route is a Gosub that sets PABX_DIAL, as recorded from Asterisk 22;
the class in `pabx-route-<route>` when the route context dials itself); inbound calls come from the trunk that carries the DID's
route and go where the DID points (extension, queue, IVR, voicemail); internal calls ring
colleagues from `t_<slug>_phones`. Queues ring their members (ringall: all at once, one leg per
member, one linkedid), IVRs answer first, unanswered extensions with a mailbox go to voicemail.
Tenants by status: removido makes no calls, pendente and inativo no outbound calls, inativo
answers inbound calls with the suspension notice. The same seed gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import gzip
import math
import random
import re
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from pabx.brazil.ddd import ddd_table
from pabx.loader import Repository
from pabx.model.tenant import Status, Tenant
from pabx.render.output import render_servers
from pabx.render.secrets import Secrets

UTC = dt.UTC
HOUR_WEIGHTS = [0, 0, 0, 0, 0, 0, 1, 3, 8, 12, 13, 12, 7, 8, 12, 13, 12, 9, 5, 3, 2, 1, 1, 0]
CLASS_WEIGHTS = {
    "local_fixo": 30,
    "local_movel": 34,
    "ldn_fixo": 10,
    "ldn_movel": 14,
    "0800": 5,
    "0300": 2,
    "servicos": 2,
    "ldi": 3,
}
DEST_CLASS = {"extension": "ramal", "queue": "fila", "ivr": "ura", "voicemail": "correio"}


@dataclass
class Leg:
    accountcode: str
    src: str
    dst: str
    dcontext: str
    clid: str
    channel: str
    dstchannel: str
    lastapp: str
    lastdata: str
    start: dt.datetime
    answer: dt.datetime | None
    end: dt.datetime
    disposition: str
    uniqueid: str
    userfield: str
    peeraccount: str
    linkedid: str
    sequence: int = 0

    def csv(self) -> str:
        duration = int((self.end - self.start).total_seconds())
        billsec = int((self.end - self.answer).total_seconds()) if self.answer else 0
        quoted = [
            _q(v)
            for v in (
                self.accountcode,
                self.src,
                self.dst,
                self.dcontext,
                self.clid,
                self.channel,
                self.dstchannel,
                self.lastapp,
                self.lastdata,
            )
        ]
        times = [_q(_t(self.start)), _q(_t(self.answer)) if self.answer else "", _q(_t(self.end))]
        tail = [
            str(duration),
            str(billsec),
            _q(self.disposition),
            _q("DOCUMENTATION"),
            _q(self.uniqueid),
            _q(self.userfield),
            _q(self.peeraccount),
            _q(self.linkedid),
            str(self.sequence),
        ]
        return ",".join(quoted + times + tail) + "\n"


def _q(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _t(value: dt.datetime | None) -> str:
    assert value is not None
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class _Platform:
    """What the simulator needs from the repository and its render."""

    tenants: list[tuple[str, Tenant]]
    callerid: dict[str, str]  # endpoint -> `"Name" <2001>`
    route_dial: dict[tuple[str, str], str]  # (route, class) -> Dial data template
    route_gosub: set[str]  # routes rendered as a Gosub setting PABX_DIAL: Dial runs in t_<slug>_phones
    queues: dict[str, tuple[str, list[str], int]]  # queue name -> (strategy, members, member timeout)
    number_route: dict[str, str]
    dids: dict[str, list[tuple[str, str]]]  # tenant -> [(number, destination)]
    route_inbound_trunk: dict[str, str]
    own_ddd: dict[str, str]


@dataclass
class _Clock:
    """Asterisk's counters: one per channel (uniqueid and name suffix), one per CDR."""

    channel: int = 0
    sequence: int = 0

    def new_channel(self, name: str, at: dt.datetime) -> tuple[str, str]:
        n = self.channel
        self.channel += 1
        return f"{name}-{n:08x}", f"{int(at.timestamp())}.{n}"


@dataclass
class _Call:
    legs: list[Leg] = field(default_factory=list)


def load_platform(repo: Repository) -> _Platform:
    rendered = render_servers(repo, Secrets(None))
    callerid: dict[str, str] = {}
    route_dial: dict[tuple[str, str], str] = {}
    route_gosub: set[str] = set()
    queues: dict[str, tuple[str, list[str], int]] = {}
    for files in rendered.values():
        for rel, text in files.items():
            if rel.endswith("pjsip.conf"):
                for section, cid in re.findall(
                    r"^\[([^\]]+)\]\([^)]*\)\n(?:[^\[\n][^\n]*\n)*?callerid=(.*)$", text, re.M
                ):
                    callerid[section] = cid
            elif rel == "extensions.conf":
                for route, body in re.findall(r"^\[pabx-route-([^\]]+)\]\n((?:[^\[][^\n]*\n)*)", text, re.M):
                    for cls, data in re.findall(r"^exten => ([^,]+),1,Dial\((.*)\)$", body, re.M):
                        route_dial[(route, cls)] = data
                    # a route rendered as a Gosub that sets the dial string (Dial runs after it)
                    for cls, data in re.findall(r"^exten => ([^,]+),1,Set\(PABX_DIAL=(.*)\)$", body, re.M):
                        route_dial.setdefault((route, cls), f"{data},120")
                        route_gosub.add(route)
            elif rel.endswith("queues.conf"):
                for name, body in re.findall(r"^\[(t_[^\]]+)\]\n((?:[^\[\n][^\n]*\n)*)", text, re.M):
                    strategy = re.search(r"^strategy=(\S+)", body, re.M)
                    timeout = re.search(r"^timeout=(\d+)", body, re.M)
                    members = [m.split("_", 1)[1] for m in re.findall(r"^member=PJSIP/(\S+)", body, re.M)]
                    queues[name] = (
                        strategy.group(1) if strategy else "ringall",
                        members,
                        int(timeout.group(1)) if timeout else 15,
                    )
    dids: dict[str, list[tuple[str, str]]] = {}
    for number in repo.numbers.values():
        if number.owner and number.destination:
            dids.setdefault(number.owner, []).append((number.number, number.destination))
    inbound = {}
    for slug, route in repo.routes.items():
        trunk = route.trunks.get(next(iter(route.trunks)))
        for cls in ("local_fixo", "servicos"):
            trunk = next((t for c, t in route.trunks.items() if c.value == cls and t), trunk)
            if trunk:
                break
        inbound[slug] = trunk or ""
    own: dict[str, str] = {}
    for slug, tenant in repo.tenants.items():
        if tenant.caller_id:
            own[slug] = tenant.caller_id[:2]
        elif dids.get(slug):
            own[slug] = dids[slug][0][0][:2]
    return _Platform(
        tenants=[
            (slug, t) for slug, t in repo.tenants.items() if t.status is not Status.REMOVIDO and t.extensions
        ],
        callerid=callerid,
        route_dial=route_dial,
        route_gosub=route_gosub,
        queues=queues,
        number_route={n.number: n.route for n in repo.numbers.values()},
        dids=dids,
        route_inbound_trunk=inbound,
        own_ddd=own,
    )


class Simulator:
    def __init__(self, repo: Repository, *, seed: int = 1, timezone: str | None = None) -> None:
        self.repo = repo
        self.platform = load_platform(repo)
        self.rng = random.Random(seed)
        self.clock = _Clock()
        tz = timezone or (repo.platform.timezone if repo.platform else "America/Sao_Paulo")
        self.tz = zoneinfo.ZoneInfo(tz)
        self.ddds = sorted(ddd_table())
        self.weights = [max(1, len(t.extensions)) for _, t in self.platform.tenants]

    # --- the day ------------------------------------------------------------------------------

    def day(self, day: dt.date, calls: int) -> list[Leg]:
        """`calls` calls starting on local date `day`, their legs in no particular order."""
        legs: list[Leg] = []
        starts = sorted(self._start_time(day) for _ in range(calls))
        for start in starts:
            slug, tenant = self.rng.choices(self.platform.tenants, self.weights)[0]
            legs.extend(self._call(slug, tenant, start).legs)
        return legs

    def _start_time(self, day: dt.date) -> dt.datetime:
        hour = self.rng.choices(range(24), HOUR_WEIGHTS)[0]
        local = dt.datetime.combine(day, dt.time(hour), self.tz) + dt.timedelta(
            seconds=self.rng.randrange(3600)
        )
        return local.astimezone(UTC)

    def _call(self, slug: str, tenant: Tenant, start: dt.datetime) -> _Call:
        kinds = {"saida": 40, "entrada": 35, "interna": 25}
        if tenant.status is not Status.ATIVO:
            del kinds["saida"]  # pendente and inativo make no outbound calls
        if tenant.status is Status.INATIVO or len(tenant.extensions) < 2:
            kinds.pop("interna", None)
        if not self.platform.dids.get(slug):
            kinds.pop("entrada", None)
        if not kinds:
            kinds = {"entrada": 1} if self.platform.dids.get(slug) else {"interna": 1}
        kind = self.rng.choices(list(kinds), list(kinds.values()))[0]
        if kind == "saida":
            return self._outbound(slug, tenant, start)
        if kind == "entrada":
            return self._inbound(slug, tenant, start)
        return self._internal(slug, tenant, start)

    # --- outbound -----------------------------------------------------------------------------

    def _outbound(self, slug: str, tenant: Tenant, start: dt.datetime) -> _Call:
        plan = self.repo.plans.get(tenant.plan)
        candidates: list[tuple[Any, list[str], str]] = []
        for ext in tenant.extensions:
            allowed = {c.value for c in (ext.outbound or (plan.allowed_classes if plan else []))}
            if plan:
                allowed &= {c.value for c in plan.allowed_classes}
            cid = ext.caller_id or tenant.caller_id
            if allowed and cid and cid in self.platform.number_route:
                candidates.append((ext, sorted(allowed), cid))
        if not candidates:
            return self._internal(slug, tenant, start)
        ext, classes, cid = self.rng.choice(candidates)
        cls = self.rng.choices(classes, [CLASS_WEIGHTS[c] for c in classes])[0]
        route = self.platform.number_route[cid]
        template = self.platform.route_dial.get((route, cls))
        if template is None:
            return self._internal(slug, tenant, start)
        dialed, data = self._dial_data(template, cls, self.platform.own_ddd.get(slug, cid[:2]))
        if route in self.platform.route_gosub:  # Dial runs back in the phones' context
            dst, dcontext = dialed, f"t_{slug}_phones"
        else:
            dst, dcontext = cls, f"pabx-route-{route}"
        trunk = re.search(r"@trunk_([^,]+)", data)
        channel, uid = self.clock.new_channel(f"PJSIP/{slug}_{ext.number}", start)
        peer, _ = self.clock.new_channel(f"PJSIP/trunk_{trunk.group(1) if trunk else 'x'}", start)
        disposition = self.rng.choices(
            ["ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION"], [70, 15, 8, 4, 3]
        )[0]
        ring = self.rng.randint(2, 25)
        answer, end = self._timing(start, ring, disposition, ring_out=self.rng.randint(20, 60))
        leg = Leg(
            slug,
            cid,
            dst,
            dcontext,
            f'"{cid}" <{cid}>',
            channel,
            peer if disposition not in ("FAILED", "CONGESTION") else "",
            "Dial",
            data,
            start,
            answer,
            end,
            disposition,
            uid,
            f"saida:{cls}",
            slug if disposition not in ("FAILED", "CONGESTION") else "",
            uid,
        )
        return _Call([self._seq(leg, party_b=bool(leg.dstchannel))])

    def _dial_data(self, template: str, cls: str, own_ddd: str) -> tuple[str, str]:
        """(what the phone dialed, the Dial data the route makes of it)."""
        r = self.rng
        ddd, sub, rest = own_ddd, "", ""
        if cls in ("local_fixo", "ldn_fixo"):
            sub = f"{r.randint(2, 5)}{r.randrange(10**7):07d}"
        elif cls in ("local_movel", "ldn_movel"):
            sub = f"9{r.randrange(10**8):08d}"
        if cls in ("ldn_fixo", "ldn_movel"):
            ddd = r.choice([d for d in self.ddds if d != own_ddd])
        if cls == "0800":
            rest = f"800{r.randrange(10**7):07d}"
        elif cls == "0300":
            rest = f"300{r.randrange(10**7):07d}"
        elif cls == "servicos":
            rest = r.choice(["190", "192", "193", "102", "10315"])
        elif cls == "ldi":
            rest = r.choice(["1", "351", "54", "44"]) + f"{r.randrange(10**9):09d}"
        dial = template.replace("${PABX_TO_DDD}", ddd).replace("${PABX_TO_SUB}", sub)
        if cls.startswith("local"):
            dialed = sub
        elif cls.startswith("ldn"):
            dialed = f"0{ddd}{sub}"
        elif cls in ("0800", "0300"):
            dialed = f"0{rest}"
        elif cls == "ldi":
            dialed = f"0021{rest}"
        else:
            dialed = rest
        return dialed, dial.replace("${PABX_TO_REST}", rest)

    # --- inbound ------------------------------------------------------------------------------

    def _inbound(self, slug: str, tenant: Tenant, start: dt.datetime) -> _Call:
        number, destination = self.rng.choice(self.platform.dids[slug])
        kind, _, target = destination.partition(":")
        route = self.platform.number_route[number]
        trunk = self.platform.route_inbound_trunk.get(route, "")
        caller = self._caller_number()
        channel, uid = self.clock.new_channel(f"PJSIP/trunk_{trunk}", start)
        base = _Party(
            slug, caller, f'"{caller}" <{caller}>', channel, uid, f"entrada:{DEST_CLASS.get(kind, 'ramal')}"
        )
        if tenant.status is Status.INATIVO:
            end = start + dt.timedelta(seconds=self.rng.randint(3, 6))
            leg = base.leg(number, "pabx-did", "", "Hangup", "21", start, start, end, "ANSWERED", "")
            return _Call([self._seq(leg, party_b=False)])
        return self._destination(slug, base, kind, target, start, internal=False)

    def _caller_number(self) -> str:
        ddd = self.rng.choice(self.ddds)
        sub = (
            f"9{self.rng.randrange(10**8):08d}"
            if self.rng.random() < 0.6
            else f"{self.rng.randint(2, 5)}{self.rng.randrange(10**7):07d}"
        )
        return f"+55{ddd}{sub}" if self.rng.random() < 0.2 else f"{ddd}{sub}"

    # --- internal -----------------------------------------------------------------------------

    def _internal(self, slug: str, tenant: Tenant, start: dt.datetime) -> _Call:
        caller = self.rng.choice(tenant.extensions)
        endpoint = f"{slug}_{caller.number}"
        cid = self.platform.callerid.get(endpoint, f'"{caller.name}" <{caller.number}>')
        channel, uid = self.clock.new_channel(f"PJSIP/{endpoint}", start)
        queues = [q for q in tenant.queues]
        if queues and self.rng.random() < 0.15:
            queue = self.rng.choice(queues)
            base = _Party(slug, caller.number, cid, channel, uid, "interna:fila")
            return self._queue(slug, base, queue.number, start, context=f"t_{slug}_phones")
        others = [e for e in tenant.extensions if e.number != caller.number]
        callee = self.rng.choice(others)
        base = _Party(slug, caller.number, cid, channel, uid, "interna:ramal")
        return self._extension(slug, base, callee.number, start, context=f"t_{slug}_phones")

    # --- destinations ---------------------------------------------------------------------------

    def _destination(
        self, slug: str, base: _Party, kind: str, target: str, start: dt.datetime, *, internal: bool
    ) -> _Call:
        context = f"t_{slug}_internal"
        if kind == "extension":
            return self._extension(slug, base, target, start, context=context)
        if kind == "queue":
            return self._queue(slug, base, target, start, context=context)
        if kind == "voicemail":
            return self._voicemail(slug, base, target, start, start, f"t_{slug}_voicemail", "u")
        if kind == "ivr":
            return self._ivr(slug, base, target, start)
        end = start + dt.timedelta(seconds=1)
        return _Call(
            [
                self._seq(
                    base.leg(target, context, "", "Hangup", "", start, None, end, "NO ANSWER", ""),
                    party_b=False,
                )
            ]
        )

    def _ivr(self, slug: str, base: _Party, number: str, start: dt.datetime) -> _Call:
        tenant = self.repo.tenants[slug]
        ivr = tenant.ivr(number)
        answer = start + dt.timedelta(seconds=self.rng.randint(0, 1))
        listen = self.rng.randint(4, 20)
        if ivr is None or self.rng.random() < 0.12:
            end = answer + dt.timedelta(seconds=listen)
            leg = base.leg(
                "s", f"t_{slug}_ivr_{number}", "", "WaitExten", "5", start, answer, end, "ANSWERED", ""
            )
            return _Call([self._seq(leg, party_b=False)])
        if self.rng.random() < 0.2 and ivr.timeout:
            destination = ivr.timeout
        else:
            destination = self.rng.choice(list(ivr.options.values()))
        kind, _, target = destination.partition(":")
        after = answer + dt.timedelta(seconds=listen)
        if kind == "ivr":
            kind, target = "extension", tenant.extensions[0].number
        call = self._destination(slug, base, kind, target, after, internal=False)
        first = call.legs[0]
        first.start = start
        if first.answer is None:
            first.answer = answer  # the IVR answered the caller's channel: Asterisk keeps that time
        return call

    def _extension(self, slug: str, base: _Party, number: str, start: dt.datetime, *, context: str) -> _Call:
        tenant = self.repo.tenants[slug]
        ext = tenant.extension(number)
        peer, _ = self.clock.new_channel(f"PJSIP/{slug}_{number}", start)
        disposition = self.rng.choices(["ANSWERED", "NO ANSWER", "BUSY", "FAILED"], [66, 24, 7, 3])[0]
        ring = self.rng.randint(2, 20)
        answer, end = self._timing(start, ring, disposition, ring_out=30)
        failed = disposition == "FAILED"
        leg = base.leg(
            number,
            context,
            "" if failed else peer,
            "Dial",
            f"PJSIP/{slug}_{number},30",
            start,
            answer,
            end,
            disposition,
            "" if failed else slug,
        )
        call = _Call([self._seq(leg, party_b=not failed)])
        if disposition != "ANSWERED" and ext is not None and ext.voicemail:
            option = "b" if disposition == "BUSY" else "u"
            voicemail = self._voicemail(slug, base, number, end, end, context, option)
            call.legs.extend(voicemail.legs)
        return call

    def _queue(self, slug: str, base: _Party, number: str, start: dt.datetime, *, context: str) -> _Call:
        tenant = self.repo.tenants[slug]
        queue = tenant.queue(number)
        name = f"t_{slug}_q{number}"
        strategy, members, member_timeout = self.platform.queues.get(name, ("ringall", [], 15))
        timeout = queue.timeout if queue else 30
        data = f"{name},,,,{timeout}"
        answered_by = self.rng.choice(members) if members and self.rng.random() < 0.75 else None
        wait = self.rng.randint(3, max(4, timeout - 2)) if answered_by else timeout
        pick = start + dt.timedelta(seconds=wait)
        end = pick + dt.timedelta(seconds=self._talk()) if answered_by else pick
        call = _Call()
        rung = (
            members
            if strategy == "ringall"
            else members[: max(1, min(len(members), wait // member_timeout + 1))]
        )
        if answered_by and answered_by not in rung:
            rung = [*rung[:-1], answered_by] if rung else [answered_by]
        for i, member in enumerate(rung):
            peer, _ = self.clock.new_channel(f"PJSIP/{slug}_{member}", start)
            won = member == answered_by
            leg = base.leg(
                number,
                context,
                peer,
                "Queue",
                data,
                start
                if i == 0 or strategy == "ringall"
                else start + dt.timedelta(seconds=i * member_timeout),
                pick if won else None,
                end if won else pick,
                "ANSWERED" if won else "NO ANSWER",
                slug,
            )
            call.legs.append(self._seq(leg, party_b=True))
        if not call.legs:
            leg = base.leg(number, context, "", "Queue", data, start, None, pick, "NO ANSWER", "")
            call.legs.append(self._seq(leg, party_b=False))
        if answered_by is None and queue and queue.overflow and queue.overflow.startswith("voicemail:"):
            box = queue.overflow.split(":", 1)[1]
            call.legs.extend(self._voicemail(slug, base, box, pick, pick, f"t_{slug}_voicemail", "u").legs)
        return call

    def _voicemail(
        self,
        slug: str,
        base: _Party,
        box: str,
        start: dt.datetime,
        answer: dt.datetime,
        context: str,
        option: str,
    ) -> _Call:
        end = answer + dt.timedelta(seconds=self.rng.randint(4, 45))
        leg = base.leg(
            box, context, "", "VoiceMail", f"{box}@t_{slug},{option}", start, answer, end, "ANSWERED", ""
        )
        return _Call([self._seq(leg, party_b=False)])

    # --- helpers --------------------------------------------------------------------------------

    def _talk(self) -> int:
        if self.rng.random() < 0.06:
            return self.rng.randint(1, 4)  # hung up at once: under the free threshold or just over
        return max(1, min(3600, int(math.exp(self.rng.gauss(4.3, 0.9)))))

    def _timing(
        self, start: dt.datetime, ring: int, disposition: str, *, ring_out: int
    ) -> tuple[dt.datetime | None, dt.datetime]:
        if disposition == "ANSWERED":
            answer = start + dt.timedelta(seconds=ring)
            return answer, answer + dt.timedelta(seconds=self._talk())
        if disposition == "NO ANSWER":
            return None, start + dt.timedelta(seconds=ring_out)
        if disposition == "BUSY":
            return None, start + dt.timedelta(seconds=self.rng.randint(1, 4))
        return None, start + dt.timedelta(seconds=self.rng.randint(0, 2))

    def _seq(self, leg: Leg, *, party_b: bool) -> Leg:
        leg.sequence = self.clock.sequence
        # The dialed channel's own CDR is discarded by Asterisk but still takes a number.
        self.clock.sequence += 2 if party_b else 1
        return leg


@dataclass
class _Party:
    """The calling side of a call: the fields every leg of it repeats."""

    accountcode: str
    src: str
    clid: str
    channel: str
    uniqueid: str
    userfield: str

    def leg(
        self,
        dst: str,
        dcontext: str,
        dstchannel: str,
        app: str,
        data: str,
        start: dt.datetime,
        answer: dt.datetime | None,
        end: dt.datetime,
        disposition: str,
        peeraccount: str,
    ) -> Leg:
        return Leg(
            self.accountcode,
            self.src,
            dst,
            dcontext,
            self.clid,
            self.channel,
            dstchannel,
            app,
            data,
            start,
            answer,
            max(end, start),
            disposition,
            self.uniqueid,
            self.userfield,
            peeraccount,
            self.uniqueid,
        )


def simulate(
    repo: Repository,
    *,
    days: int,
    calls_per_day: int,
    end: dt.date,
    seed: int = 1,
) -> Iterator[Leg]:
    """Legs of `days` days of calls ending on local date `end`, in the order Asterisk writes them
    (when each CDR is finalized: by end time)."""
    sim = Simulator(repo, seed=seed)
    legs: list[Leg] = []
    for offset in range(days - 1, -1, -1):
        legs.extend(sim.day(end - dt.timedelta(days=offset), calls_per_day))
    legs.sort(key=lambda leg: (leg.end, leg.sequence))
    yield from legs


def write_csv(legs: Iterator[Leg], out: Path) -> int:
    """Write legs as Master.csv (gzip when `out` ends with .gz); returns the number of rows."""
    out.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    opened: TextIO = (
        gzip.open(out, "wt", encoding="utf-8", newline="")  # noqa: SIM115 - closed by the with below
        if out.suffix == ".gz"
        else out.open("w", encoding="utf-8", newline="")
    )
    with opened as fh:
        for leg in legs:
            fh.write(leg.csv())
            count += 1
    return count
