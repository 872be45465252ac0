"""`pabx trace`: what the rendered configuration does with one call, step by step."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from pabx.cli.options import format_option, repo_option
from pabx.dialplan.repo_trace import TraceReport, TraceRequest, trace
from pabx.errors import UserError
from pabx.loader import load_valid_repository


@click.command("trace")
@repo_option
@format_option("text", "json")
@click.option("--from", "from_extension", metavar="TENANT/EXT", help="Call placed by this extension's phone.")
@click.option("--dial", default="", metavar="NUMBER", help="What the phone dials.")
@click.option("--did", metavar="NUMBER", help="A call from a carrier to this number (DDD+number, +55…, 0…).")
@click.option(
    "--trunk", help="The carrier trunk the --did call arrives on (default: from the number's route)."
)
@click.option("--server", help="The server the call reaches (default: the tenant's, or the number owner's).")
@click.option("--caller", default="", metavar="NUMBER", help="The carrier's caller (From) number, for --did.")
@click.option("--header", "headers", multiple=True, metavar="NAME=VALUE", help="SIP header of the INVITE.")
@click.option("--digits", default="", help="Keys pressed at each prompt, in order ('.' lets one time out).")
@click.option(
    "--dial-status",
    "dial_statuses",
    multiple=True,
    help="Go on past a Dial as if it ended so (NOANSWER, BUSY…).",
)
@click.option(
    "--queue-status", "queue_statuses", multiple=True, help="Go on past a Queue as if it ended so (TIMEOUT…)."
)
@click.option(
    "--calls-up", type=click.IntRange(0), default=0, help="Calls the tenant already has up (limit check)."
)
def command(
    repo: Path,
    fmt: str,
    from_extension: str | None,
    dial: str,
    did: str | None,
    trunk: str | None,
    server: str | None,
    caller: str,
    headers: tuple[str, ...],
    digits: str,
    dial_statuses: tuple[str, ...],
    queue_statuses: tuple[str, ...],
    calls_up: int,
) -> None:
    """Follow one call through the rendered dialplan and say where it ends.

    Prints every context/extension/priority visited and the outcome: the endpoint or trunk
    dialed with the number sent and the caller ID, the queue, the voicemail box, or the hangup
    cause. The trace runs on the files `pabx render` writes (masked), not on the YAML.

    Examples:
      pabx trace --from acme/2001 --dial 02133334444
      pabx trace --did 1130010000 --digits 1
      pabx trace --did 1130010001 --header X-Call-Type=collect
      pabx trace --did 2130020000 --trunk vivo-sp --server pbx-sp-01 --caller 11987654321
    """
    if (from_extension is None) == (did is None):
        raise UserError("give exactly one of --from TENANT/EXT (with --dial) or --did NUMBER")
    parsed_headers = []
    for header in headers:
        name, sep, value = header.partition("=")
        if not sep or not name:
            raise UserError(f"--header {header!r}: write NAME=VALUE")
        parsed_headers.append((name.strip(), value.strip()))
    loaded, _ = load_valid_repository(repo)
    report = trace(
        loaded,
        TraceRequest(
            dial=dial,
            from_extension=from_extension,
            did=did,
            trunk=trunk,
            server=server,
            callerid_num=caller,
            headers=tuple(parsed_headers),
            digits=digits,
            dial_statuses=dial_statuses,
            queue_statuses=queue_statuses,
            calls_up=calls_up,
        ),
    )
    if fmt == "json":
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(format_text(report))
    sys.exit(0)


def format_text(report: TraceReport) -> str:
    data = report.result.to_json()
    lines = [report.edge] if report.edge else []
    lines.append(f"server {report.server}: {report.endpoint} -> {report.exten}")
    for step in data["steps"]:
        label = f"({step['label']})" if step["label"] else ""
        shown = step["substituted"] if step["substituted"] is not None else step["data"]
        lines.append(
            f"  [{step['context']}] {step['exten']},{step['priority']}{label}  {step['app']}({shown})"
        )
        for note in step["notes"]:
            lines.append(f"      ! {note}")
    result = data["result"]
    lines.append(f"result: {result['kind']}: {result['reason']}")
    if report.refusal:
        lines.append(f"  refused: {report.refusal}")
    if result["dial"]:
        for target in result["dial"]["targets"]:
            where = target["endpoint"] or target["resource"]
            number = f" number {target['number']}" if target["number"] else ""
            cid = target["callerid"]
            lines.append(f"  dial {where}{number}, caller ID {cid['num']!r} name {cid['name']!r}")
    if result["queue"]:
        q = result["queue"]
        lines.append(f"  queue {q['name']} ({q['strategy']}), members {', '.join(q['members'])}")
    if result["voicemail"]:
        boxes = ", ".join(f"{b['mailbox']}@{b['context']}" for b in result["voicemail"]["mailboxes"])
        lines.append(f"  voicemail {boxes}")
    if result["hangup"]:
        h = result["hangup"]
        lines.append(f"  hangup cause {h['cause']} ({h['cause_name']})")
    cdr = result["cdr"]
    lines.append(
        f"  CDR dst={cdr['dst']}@{cdr['dcontext']} accountcode={cdr['accountcode']!r} userfield={cdr['userfield']!r}"
    )
    for warning in result["warnings"]:
        lines.append(f"  warning: {warning}")
    return "\n".join(lines)
