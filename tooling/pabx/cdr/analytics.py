"""Calls from CDR legs, in DuckDB SQL: one call per linkedid, classified, placed in local time.

At ingest, the legs of each batch become one *fragment* per call (FRAGMENT_SQL, stored beside
the CDRs); `build_calls(con, ...)` turns the fragments into the temp table `calls`:

| column | meaning |
|---|---|
| call_id | linkedid; uniqueid when the layout has no linkedid; channel@start with neither |
| tenant | the first non-empty accountcode of the legs (peeraccount if none) |
| direction, class | from CDR(userfield) `<direction>:<class>` (the CDR contract), else the fallback |
| classified_by | `userfield` or `fallback` |
| start_utc, end_utc | first leg's start, last leg's end (TIMESTAMPTZ) |
| local_start, local_end, local_day | the same in the platform time zone (naive TIMESTAMP / DATE) |
| answered | some leg's disposition is ANSWERED |
| billsec | the largest billsec of an ANSWERED leg (never duration); 0 when none |
| caller | src of the first leg |
| dialed | for saida: the number sent to the carrier (dst when it is digits, else from lastdata) |
| uf | UF of the other party, from its DDD (saida: the dialed number; entrada: the caller) |
| rung | extensions whose phones rang (dstchannel `PJSIP/<tenant>_<ext>-...`) |

Refused attempts are not calls: nobody was dialed (no dstchannel) and either every leg ended in
`Hangup` (perhaps after a notice was played) or every leg is in `pabx-deny`/`pabx-suspended` (a
class the plan or the extension does not allow, a suspended tenant, an unknown DID, the
concurrent-call limit...). They
go to the temp table `refused(tenant, local_day, reason)` instead (reason: the pabx-deny
extension, `suspended`, or `hangup <cause>`).

Fallback, for CDRs whose userfield lacks `<direction>:<class>` (other dialplans, old files):
direction is `entrada` when a leg's channel is a trunk (`<tech>/trunk_...`), else `saida` when a
leg's dstchannel is a trunk, else `interna`; the class of a saida call is
`pabx.brazil.numbering.classify` of the dialed number (E.164 and national forms, local against
the tenant's own DDD), of other calls the application of their last leg (Queue -> fila,
VoiceMail -> correio, BackGround/WaitExten/Playback/Read -> ura, anything else -> ramal).
"""

from __future__ import annotations

import datetime as dt

import duckdb

from pabx.brazil.ddd import ddd_table
from pabx.brazil.numbering import Outcome, classify

DIRECTIONS = ("entrada", "saida", "interna")
CLASSES = (
    "local_fixo",
    "local_movel",
    "ldn_fixo",
    "ldn_movel",
    "0300",
    "0800",
    "servicos",
    "ldi",
    "ramal",
    "fila",
    "ura",
    "correio",
)
IVR_APPS = ("BackGround", "Background", "WaitExten", "Playback", "Read")

_SUB = r"([2-5][0-9]{7}|9[0-9]{8})"

# DDD of a Brazilian number in the forms classify() knows (mirrors pabx.brazil.numbering).
DDD_MACRO = f"""
CREATE OR REPLACE TEMP MACRO pabx_ddd(n, own) AS (
    CASE
        WHEN n IS NULL THEN NULL
        WHEN regexp_full_match(n, '\\+55[1-9][1-9]{_SUB}') THEN substr(n, 4, 2)
        WHEN regexp_full_match(n, '0[1-9][0-9][1-9][1-9]{_SUB}') THEN substr(n, 4, 2)
        WHEN regexp_full_match(n, '0[1-9][1-9]{_SUB}') THEN substr(n, 2, 2)
        WHEN regexp_full_match(n, '[1-9][1-9]{_SUB}') THEN substr(n, 1, 2)
        WHEN regexp_full_match(n, '{_SUB}') THEN own
        ELSE NULL
    END
)
"""


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _values(rows: list[tuple[str | None, ...]], names: str) -> str:
    if not rows:
        return f"(SELECT {', '.join(f'NULL::VARCHAR AS {n}' for n in names.split(', '))} LIMIT 0)"
    body = ", ".join(
        "(" + ", ".join("NULL" if v is None else _sql_text(v) for v in row) + ")" for row in rows
    )
    return f"(SELECT * FROM (VALUES {body}) v({names}))"


# One row per call (linkedid) from a set of legs: computed at ingest for each batch and stored
# as "fragments" (store.py); fragments of one call from two batches are merged by MERGE_SQL.
FRAGMENT_SQL = """
WITH legs AS (
    SELECT
        coalesce(nullif(linkedid, ''), nullif(uniqueid, ''), channel || '@' || CAST(start AS VARCHAR))
            AS call_id,
        accountcode, peeraccount, src, dst, dcontext, dstchannel, lastapp, lastdata, start, "end",
        billsec, disposition,
        split_part(coalesce(userfield, ''), ';', 1) AS uf0,
        contains(channel, '/trunk_') AS from_trunk,
        contains(dstchannel, '/trunk_') AS to_trunk,
        CASE WHEN contains(dstchannel, '/trunk_') THEN
            CASE WHEN regexp_full_match(dst, '\\+?[0-9]{3,}') THEN dst
                 ELSE nullif(regexp_extract(lastdata, '^[^/]+/([^@,]+)@', 1), '') END
        END AS dialed_leg,
        CASE WHEN dstchannel <> '' AND NOT contains(dstchannel, '/trunk_') THEN
            nullif(regexp_extract(dstchannel, '^[^/]+/[a-z0-9-]+_([0-9]+)-[^-]*$', 1), '')
        END AS rung_leg
    FROM {source}
),
-- Most calls have one leg: those become fragments row by row; only calls with several legs
-- are aggregated (far less memory than grouping every leg).
multi AS (SELECT call_id FROM legs GROUP BY call_id HAVING count(*) > 1),
single AS (
    SELECT
        call_id,
        CASE WHEN accountcode <> '' THEN accountcode WHEN peeraccount <> '' THEN peeraccount ELSE '' END
            AS tenant,
        nullif(uf0, '') AS tag,
        from_trunk,
        to_trunk,
        start AS start_utc,
        "end" AS end_utc,
        disposition = 'ANSWERED' AS answered,
        CASE WHEN disposition = 'ANSWERED' THEN billsec ELSE 0 END AS billsec,
        src AS caller,
        dialed_leg AS dialed,
        pabx_ddd(dialed_leg, '__') AS dialed_ddd,
        CASE WHEN from_trunk THEN pabx_ddd(src, '__') END AS caller_ddd,  -- only inbound calls need it
        lastapp AS last_app,
        start AS last_start,
        coalesce(dstchannel, '') = '' AS no_dst,
        lastapp = 'Hangup' AS all_hangup,
        dcontext IN ('pabx-deny', 'pabx-suspended') AS all_deny,
        CASE WHEN dcontext = 'pabx-deny' THEN dst
             WHEN dcontext = 'pabx-suspended' THEN 'suspended'
             ELSE 'hangup ' || lastdata END AS refusal,
        CASE WHEN rung_leg IS NULL THEN []::VARCHAR[] ELSE [rung_leg] END AS rung
    FROM legs WHERE call_id NOT IN (SELECT call_id FROM multi)
),
grouped AS (
    SELECT
        call_id,
        coalesce(arg_min(accountcode, start) FILTER (WHERE accountcode <> ''),
                 arg_min(peeraccount, start) FILTER (WHERE peeraccount <> ''), '') AS tenant,
        arg_min(uf0, start) FILTER (WHERE uf0 <> '') AS tag,
        bool_or(from_trunk) AS from_trunk,
        bool_or(to_trunk) AS to_trunk,
        min(start) AS start_utc,
        max("end") AS end_utc,
        bool_or(disposition = 'ANSWERED') AS answered,
        coalesce(max(billsec) FILTER (WHERE disposition = 'ANSWERED'), 0) AS billsec,
        arg_min(src, start) AS caller,
        arg_min(dialed_leg, start) FILTER (WHERE dialed_leg IS NOT NULL) AS dialed,
        pabx_ddd(arg_min(dialed_leg, start) FILTER (WHERE dialed_leg IS NOT NULL), '__') AS dialed_ddd,
        CASE WHEN bool_or(from_trunk) THEN pabx_ddd(arg_min(src, start), '__') END AS caller_ddd,
        arg_max(lastapp, start) AS last_app,
        max(start) AS last_start,
        NOT bool_or(coalesce(dstchannel, '') <> '') AS no_dst,
        bool_and(lastapp = 'Hangup') AS all_hangup,
        bool_and(dcontext IN ('pabx-deny', 'pabx-suspended')) AS all_deny,
        arg_max(CASE WHEN dcontext = 'pabx-deny' THEN dst
                     WHEN dcontext = 'pabx-suspended' THEN 'suspended'
                     ELSE 'hangup ' || lastdata END, start) AS refusal,
        coalesce(list(rung_leg) FILTER (WHERE rung_leg IS NOT NULL), []::VARCHAR[]) AS rung
    FROM legs WHERE call_id IN (SELECT call_id FROM multi)
    GROUP BY call_id
)
SELECT * FROM single UNION ALL BY NAME SELECT * FROM grouped
"""

MERGE_SQL = """
SELECT
    call_id,
    coalesce(arg_min(tenant, start_utc) FILTER (WHERE tenant <> ''), '') AS tenant,
    arg_min(tag, start_utc) FILTER (WHERE tag IS NOT NULL) AS tag,
    bool_or(from_trunk) AS from_trunk,
    bool_or(to_trunk) AS to_trunk,
    min(start_utc) AS start_utc,
    max(end_utc) AS end_utc,
    bool_or(answered) AS answered,
    max(billsec) AS billsec,
    arg_min(caller, start_utc) AS caller,
    arg_min(dialed, start_utc) FILTER (WHERE dialed IS NOT NULL) AS dialed,
    arg_min(dialed_ddd, start_utc) FILTER (WHERE dialed IS NOT NULL) AS dialed_ddd,
    arg_min(caller_ddd, start_utc) AS caller_ddd,
    arg_max(last_app, last_start) AS last_app,
    max(last_start) AS last_start,
    bool_and(no_dst) AS no_dst,
    bool_and(all_hangup) AS all_hangup,
    bool_and(all_deny) AS all_deny,
    arg_max(refusal, last_start) AS refusal,
    flatten(list(rung)) AS rung
FROM {source}
GROUP BY call_id
"""


def build_calls(
    con: duckdb.DuckDBPyConnection,
    *,
    timezone: str,
    local_from: dt.date,
    local_to: dt.date,
    own_ddd: dict[str, str | None],
    tenant: str | None = None,
) -> None:
    """Create temp table `calls` for calls starting in [local_from, local_to] (local dates).

    Reads the view `fragments` (one row per call and ingest batch) and `merge_ids` (calls
    whose legs came in more than one batch: their fragments are merged here).
    """
    con.execute(DDD_MACRO)
    tz = _sql_text(timezone)
    lo = f"timezone({tz}, TIMESTAMP '{local_from.isoformat()} 00:00:00')"
    hi = f"timezone({tz}, TIMESTAMP '{(local_to + dt.timedelta(days=1)).isoformat()} 00:00:00')"
    tenants = _values(sorted(own_ddd.items()), "slug, own_ddd")
    ufs = _values([(ddd, uf) for ddd, (uf, _) in sorted(ddd_table().items())], "ddd, uf")
    directions = ", ".join(_sql_text(d) for d in DIRECTIONS)
    classes = ", ".join(_sql_text(c) for c in CLASSES)
    tenant_filter = f"AND tenant = {_sql_text(tenant)}" if tenant else ""
    window = f"start_utc >= {lo} - INTERVAL 1 DAY AND start_utc < {hi}"
    merging = con.execute("SELECT count(*) FROM merge_ids").fetchone()
    if merging and merging[0]:
        merged = MERGE_SQL.replace(
            "{source}", "(SELECT * FROM fragments WHERE call_id IN (SELECT call_id FROM merge_ids))"
        )
        source = (
            f"(SELECT * FROM fragments WHERE call_id NOT IN (SELECT call_id FROM merge_ids) "
            f"UNION ALL SELECT * FROM ({merged}))"
        )
    else:
        source = "fragments"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW tagged AS
        SELECT g.*,
            t.own_ddd,
            CASE WHEN split_part(tag, ':', 1) IN ({directions})
                  AND split_part(tag, ':', 2) IN ({classes}) THEN split_part(tag, ':', 1) END AS tag_direction,
            CASE WHEN split_part(tag, ':', 1) IN ({directions})
                  AND split_part(tag, ':', 2) IN ({classes}) THEN split_part(tag, ':', 2) END AS tag_class,
            no_dst AND (all_hangup OR all_deny) AS refused
        FROM {source} g LEFT JOIN {tenants} t ON t.slug = g.tenant
        WHERE {window} {tenant_filter}
        """
    )
    # Local time = UTC + the zone's offset in that hour (zones change offset on hour boundaries):
    # one ICU conversion per hour of the window instead of three per call.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE offsets AS
        SELECT h, timezone({tz}, h) - h::TIMESTAMP AS off
        FROM generate_series(date_trunc('hour', {lo} - INTERVAL 2 DAY), {hi} + INTERVAL 2 DAY, INTERVAL 1 HOUR) g(h)
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE refused AS
        SELECT tenant, CAST(timezone(?, start_utc) AS DATE) AS local_day, refusal AS reason
        FROM tagged WHERE refused
        """,
        [timezone],
    )
    fallback = _fallback_classes(con)
    fallback_join = (
        f"LEFT JOIN {fallback} f ON f.number = c.dialed AND coalesce(f.own, '') = coalesce(c.own_ddd, '')"
        if fallback
        else "LEFT JOIN (SELECT NULL::VARCHAR AS call_class) f ON false"
    )
    ivr = ", ".join(_sql_text(a) for a in IVR_APPS)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE calls AS
        WITH c AS (
            SELECT t.*,
                coalesce(tag_direction,
                    CASE WHEN from_trunk THEN 'entrada' WHEN to_trunk THEN 'saida' ELSE 'interna' END)
                    AS direction
            FROM tagged t WHERE NOT refused
        ),
        k AS (
            SELECT
                call_id, tenant, direction,
                coalesce(tag_class,
                    CASE WHEN direction = 'saida' THEN coalesce(f.call_class, 'ldi')
                         WHEN last_app = 'Queue' THEN 'fila'
                         WHEN last_app = 'VoiceMail' THEN 'correio'
                         WHEN last_app IN ({ivr}) THEN 'ura'
                         ELSE 'ramal' END) AS class,
                CASE WHEN tag_class IS NULL THEN 'fallback' ELSE 'userfield' END AS classified_by,
                start_utc, end_utc,
                start_utc::TIMESTAMP + o1.off AS local_start,
                greatest(end_utc, start_utc)::TIMESTAMP + coalesce(o2.off, o1.off) AS local_end,
                CAST(start_utc::TIMESTAMP + o1.off AS DATE) AS local_day,
                answered, billsec, caller, dialed, rung, own_ddd, dialed_ddd, caller_ddd
            FROM c {fallback_join}
            JOIN offsets o1 ON o1.h = date_trunc('hour', c.start_utc)
            LEFT JOIN offsets o2 ON o2.h = date_trunc('hour', greatest(c.end_utc, c.start_utc))
        )
        SELECT
            tenant, direction, class, classified_by, local_start, local_end, local_day, answered, billsec,
            u.uf,
            -- what the missed-call list needs, kept only for calls nobody answered
            CASE WHEN NOT answered THEN call_id END AS call_id,
            CASE WHEN NOT answered THEN start_utc END AS start_utc,
            CASE WHEN NOT answered THEN caller END AS caller,
            CASE WHEN NOT answered AND len(rung) > 0 THEN rung END AS rung
        FROM (
            SELECT *,
                CASE
                    WHEN direction = 'saida' AND class IN ('local_fixo', 'local_movel') THEN own_ddd
                    WHEN direction = 'saida' AND class IN ('ldn_fixo', 'ldn_movel')
                        THEN CASE WHEN dialed_ddd = '__' THEN own_ddd ELSE dialed_ddd END
                    WHEN direction = 'entrada' THEN CASE WHEN caller_ddd = '__' THEN own_ddd ELSE caller_ddd END
                END AS other_ddd
            FROM k
        ) k LEFT JOIN {ufs} u ON u.ddd = k.other_ddd
        """
    )


def _fallback_classes(con: duckdb.DuckDBPyConnection) -> str | None:
    """classify() of the dialed numbers of saida calls without a class in their userfield."""
    pairs = con.execute(
        """
        SELECT DISTINCT dialed, own_ddd FROM tagged
        WHERE tag_class IS NULL AND dialed IS NOT NULL AND NOT refused
          AND coalesce(tag_direction, CASE WHEN from_trunk THEN 'entrada'
                                           WHEN to_trunk THEN 'saida' END) = 'saida'
        """
    ).fetchall()
    rows: list[tuple[str | None, ...]] = []
    for number, own in pairs:
        dialed = classify(str(number), own_ddd=own)
        if dialed.outcome in (Outcome.OUTBOUND, Outcome.EMERGENCY) and dialed.call_class is not None:
            rows.append((str(number), own, dialed.call_class.value))
    return _values(rows, "number, own, call_class") if rows else None


def local_hours(con: duckdb.DuckDBPyConnection, local_from: dt.date, local_to: dt.date) -> None:
    """Temp table `concurrency(day, hour, peak)`: peak concurrent calls inside each local hour.

    From call intervals, not starts: every call adds 1 at its start and removes 1 at its end; a
    call ending at the second another starts does not overlap it. An hour's peak is the highest
    level reached inside it, counting the calls already going on when it begins.
    """
    # Local times as whole seconds (epoch of the naive local time): integer sorting and hours.
    first = f"epoch(TIMESTAMP '{local_from.isoformat()} 00:00:00')::BIGINT"
    last = f"epoch(TIMESTAMP '{local_to.isoformat()} 23:00:00')::BIGINT"
    # At one instant, ends count before starts, so the level after all of an instant's events
    # is the highest it reaches then (the level before it was already counted earlier).
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE levels AS
        SELECT ts, sum(net) OVER (ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS after
        FROM (
            SELECT ts, sum(d) AS net FROM (
                SELECT epoch(local_start)::BIGINT AS ts, 1 AS d FROM calls
                UNION ALL
                SELECT epoch(local_end)::BIGINT AS ts, -1 AS d FROM calls
            ) GROUP BY ts
        )
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE concurrency AS
        WITH grid AS (
            SELECT h FROM range({first}, {last} + 1, 3600) g(h)
        ),
        inside AS (
            SELECT ts // 3600 * 3600 AS h, max(after) AS top FROM levels
            WHERE ts >= {first} AND ts < {last} + 3600 GROUP BY 1
        ),
        carry AS (
            SELECT g.h, coalesce(l.after, 0) AS level FROM grid g ASOF LEFT JOIN levels l ON g.h > l.ts
        )
        SELECT CAST(make_timestamp(g.h * 1000000) AS DATE) AS day, hour(make_timestamp(g.h * 1000000)) AS hour,
               greatest(coalesce(i.top, 0), coalesce(c.level, 0))::INTEGER AS peak
        FROM grid g LEFT JOIN inside i USING (h) LEFT JOIN carry c USING (h)
        ORDER BY g.h
        """
    )
